import ArgumentParser
import StrictJSON

/// `diffusionctl generate OUT --model M --prompt P`: txt2img into a file.
struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "generate", abstract: "Generate an image from a prompt into OUT.")
    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "Output image (.png, .jpg, .webp, .tif); relative to this folder.") var output: String
    @Option(help: "Stable Diffusion model name (see models.list).") var model: String?
    @Option(help: "Width in pixels (a multiple of 8).") var width: Int64?
    @Option(help: "Height in pixels (a multiple of 8).") var height: Int64?
    @OptionGroup var generation: GenerationOptions
    @OptionGroup var shortcut: ShortcutOptions

    func run() throws {
        var members = generation.members
        if let model { members["model"] = .string(model) }
        if let width { members["width"] = .integer(width) }
        if let height { members["height"] = .integer(height) }
        try Runner.run(connection: connection, method: "generate", params: shortcut.params(members, output: output), save: nil)
    }
}
