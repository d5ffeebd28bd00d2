import ArgumentParser
import StrictJSON

/// `diffusionctl img2img IN OUT --model M --prompt P [--strength S]`.
struct Img2ImgCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "img2img", abstract: "Repaint IN from a prompt into OUT.")
    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "Input image; relative to this folder.") var input: String
    @Argument(help: "Output image; relative to this folder.") var output: String
    @Option(help: "Stable Diffusion model name.") var model: String?
    @Option(help: "How much of the schedule to run (0...1).") var strength: Double?
    @OptionGroup var generation: GenerationOptions
    @OptionGroup var shortcut: ShortcutOptions

    func run() throws {
        var members = generation.members
        members["image"] = ["path": .string(input)]
        if let model { members["model"] = .string(model) }
        if let strength { members["strength"] = .double(strength) }
        try Runner.run(connection: connection, method: "img2img", params: shortcut.params(members, output: output), save: nil)
    }
}
