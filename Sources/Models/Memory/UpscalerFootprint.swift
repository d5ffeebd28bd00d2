import Foundation
import Weights

/// What an upscaler network costs in memory, from its structure (headers, ncnn layout) or a loaded network:
/// its float32 weights and the widths that size one tile's activations (`UpscaleMemory`).
public struct UpscalerFootprint: Equatable, Sendable {
    public var weightBytes: Int
    /// Feature channels of the trunk; RRDBNet's dense blocks add `growth` four times over.
    public var features: Int
    public var growth: Int
    public var scale: Int
    /// Resolution of the trunk relative to the input (RRDBNet ×2/×1 pixel-unshuffle first).
    public var inputMultiple: Int
    public var receptiveRadius: Int
    /// RRDBNet's trunk is at input resolution with a dense buffer; its four last convs run at ×2/×4.
    public var isRRDB: Bool

    public init(network: any UpscalerNetwork) {
        weightBytes = network.parameterCount * MemoryLayout<Float>.size
        scale = network.scale
        inputMultiple = network.inputMultiple
        receptiveRadius = network.receptiveRadius
        if let rrdb = network as? RRDBNet {
            features = rrdb.features; growth = rrdb.growth; isRRDB = true
        } else if let compact = network as? SRVGGNetCompact {
            features = compact.features; growth = 0; isRRDB = false
        } else {
            features = 64; growth = 32; isRRDB = true
        }
    }

    /// From the file's headers (ncnn: its .param and .bin layout), converting no weights.
    public static func read(path: String) throws -> UpscalerFootprint {
        let source: any TensorSource
        switch (path as NSString).pathExtension.lowercased() {
        case "param":
            let bin = (path as NSString).deletingPathExtension + ".bin"
            guard FileManager.default.fileExists(atPath: bin) else { throw UpscalerLoadError.missingCompanion(path: path, expected: bin) }
            source = try NCNNModel(paramPath: path, binPath: bin).pytorchNamed()
        case "safetensors", "pth", "pt", "ckpt":
            source = try WeightFiles.open(path)
        default:
            throw UpscalerLoadError.unsupportedFile(path: path)
        }
        let weightBytes = StableDiffusionFootprint.elementCount(source) * MemoryLayout<Float>.size
        if source.contains("conv_first.weight") {
            let s = try RRDBNet.structure(of: source)
            let multiple = 4 / s.scale
            return UpscalerFootprint(weightBytes: weightBytes, features: s.features, growth: s.growth, scale: s.scale,
                                     inputMultiple: multiple, receptiveRadius: RRDBNet.receptiveRadius(blocks: s.blocks, scale: s.scale), isRRDB: true)
        }
        let s = try SRVGGNetCompact.structure(of: source)
        return UpscalerFootprint(weightBytes: weightBytes, features: s.features, growth: 0, scale: s.scale, inputMultiple: 1,
                                 receptiveRadius: SRVGGNetCompact.receptiveRadius(modules: s.modules), isRRDB: false)
    }

    init(weightBytes: Int, features: Int, growth: Int, scale: Int, inputMultiple: Int, receptiveRadius: Int, isRRDB: Bool) {
        self.weightBytes = weightBytes
        self.features = features
        self.growth = growth
        self.scale = scale
        self.inputMultiple = inputMultiple
        self.receptiveRadius = receptiveRadius
        self.isRRDB = isRRDB
    }
}
