import ArgumentParser
import StrictJSON

/// `diffusionctl outpaint IN OUT --left N --top N --right N --bottom N [--model M --prompt P]`.
struct OutpaintCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "outpaint",
                                                    abstract: "Grow IN's canvas by the given sides and fill the new area into OUT.")
    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "Input image; relative to this folder.") var input: String
    @Argument(help: "Output image; relative to this folder.") var output: String
    @Option(help: "Pixels to add on the left.") var left: Int64 = 0
    @Option(help: "Pixels to add on top.") var top: Int64 = 0
    @Option(help: "Pixels to add on the right.") var right: Int64 = 0
    @Option(help: "Pixels to add at the bottom.") var bottom: Int64 = 0
    @Option(help: "Stable Diffusion model name (omit for a model-free fill).") var model: String?
    @OptionGroup var generation: GenerationOptions
    @OptionGroup var shortcut: ShortcutOptions

    func run() throws {
        var members = generation.members
        members["image"] = ["path": .string(input)]
        members["extend"] = ["left": .integer(left), "top": .integer(top), "right": .integer(right), "bottom": .integer(bottom)]
        if let model { members["model"] = .string(model) }
        try Runner.run(connection: connection, method: "outpaint", params: shortcut.params(members, output: output), save: nil)
    }
}
