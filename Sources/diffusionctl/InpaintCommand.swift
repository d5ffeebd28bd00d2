import ArgumentParser
import StrictJSON

/// `diffusionctl inpaint IN MASK OUT [--model M --prompt P]`: white in MASK is repainted; without a model a
/// model-free fill.
struct InpaintCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "inpaint",
                                                    abstract: "Repaint the white area of MASK in IN into OUT (no --model: a fill).")
    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "Input image; relative to this folder.") var input: String
    @Argument(help: "Mask image (white = repaint); relative to this folder.") var mask: String
    @Argument(help: "Output image; relative to this folder.") var output: String
    @Option(help: "Stable Diffusion model name (omit for a model-free fill).") var model: String?
    @OptionGroup var generation: GenerationOptions
    @OptionGroup var shortcut: ShortcutOptions

    func run() throws {
        var members = generation.members
        members["image"] = ["path": .string(input)]
        members["mask"] = ["path": .string(mask)]
        if let model { members["model"] = .string(model) }
        try Runner.run(connection: connection, method: "inpaint", params: shortcut.params(members, output: output), save: nil)
    }
}
