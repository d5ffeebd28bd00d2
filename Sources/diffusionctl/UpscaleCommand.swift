import ArgumentParser
import StrictJSON

/// `diffusionctl upscale IN OUT [--model M] [--scale S]`.
struct UpscaleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "upscale", abstract: "Upscale IN into OUT.")
    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "Input image; relative to this folder.") var input: String
    @Argument(help: "Output image; relative to this folder.") var output: String
    @Option(help: "Upscaler (see models.list), or lanczos3 / bicubic (default: the daemon's).") var model: String?
    @Option(help: "Output/input size factor (default: the model's own scale).") var scale: Double?
    @OptionGroup var shortcut: ShortcutOptions

    func run() throws {
        var members: [String: JSONValue] = ["image": ["path": .string(input)]]
        if let model { members["model"] = .string(model) }
        if let scale { members["scale"] = .double(scale) }
        try Runner.run(connection: connection, method: "upscale", params: shortcut.params(members, output: output), save: nil)
    }
}
