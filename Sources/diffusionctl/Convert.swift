import ArgumentParser
import Foundation
import Weights

/// `diffusionctl convert`: any checkpoint the Weights layer opens (.safetensors, sharded index, .ckpt/.pt/.pth,
/// ncnn .param + .bin) rewritten as one .safetensors file. Runs locally, no daemon needed. ncnn models are
/// written under Real-ESRGAN's PyTorch names so other tools load them as the original checkpoints.
struct Convert: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Convert a checkpoint (.safetensors, .ckpt/.pt/.pth, ncnn .param with its .bin) to .safetensors (no daemon needed).")

    @Argument(help: "Input checkpoint; for ncnn give the .param (its .bin must sit next to it).")
    var input: String
    @Argument(help: "Output .safetensors path.")
    var output: String
    @Option(help: "Element type written for floating-point tensors: f32, f16 or bf16.")
    var dtype: String = "f32"
    @Flag(help: "Keep ncnn layer names instead of mapping to Real-ESRGAN's PyTorch names.")
    var ncnnNames = false
    @Flag(help: "Replace an existing output file.")
    var overwrite = false

    func run() throws {
        guard output.hasSuffix(".safetensors") else { throw ValidationError("the output must end in .safetensors") }
        let type: DType
        switch dtype.lowercased() {
        case "f32": type = .f32
        case "f16": type = .f16
        case "bf16": type = .bf16
        default: throw ValidationError("--dtype must be f32, f16 or bf16, not \(dtype)")
        }
        if !overwrite, FileManager.default.fileExists(atPath: output) {
            throw ValidationError("\(output) exists; pass --overwrite to replace it")
        }
        var source = try WeightsLoader.open(path: input)
        if let ncnn = source as? NCNNModel, !ncnnNames {
            do { source = try ncnn.pytorchNamed() } catch {
                throw ValidationError("\(input) is not a Real-ESRGAN model this tool can name (\(error)); pass --ncnn-names to keep ncnn's layer names")
            }
        }
        try SafeTensorsWriter.convert(source, to: output, as: type,
                                      metadata: ["format": "pt", "converted_from": (input as NSString).lastPathComponent])
        FileHandle.standardError.write(Data("wrote \(source.names.count) tensors to \(output)\n".utf8))
    }
}
