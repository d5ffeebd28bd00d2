import ArgumentParser
import StrictJSON

/// What every operation shortcut shares: `-p key=value` for the request members it has no option for, and
/// whether the output may replace an existing file.
struct ShortcutOptions: ParsableArguments {
    @Option(name: .short, help: "Any further request member as key=value (dotted keys nest; value parsed as JSON if it is JSON). Repeatable.")
    var p: [String] = []
    @Flag(help: "Replace an existing output file.")
    var overwrite = false

    /// `members` (the shortcut's own), then the -p assignments over them, then the output file.
    func params(_ members: [String: JSONValue], output: String) throws(ValidationError) -> [String: JSONValue] {
        var object = members
        for assignment in p { try ParamsBuilder.assign(assignment, into: &object) }
        object["output"] = ["path": .string(output), "overwrite": .bool(overwrite)]
        return object
    }
}

/// The members the generation shortcuts (generate, img2img, inpaint, outpaint) share.
struct GenerationOptions: ParsableArguments {
    @Option(help: "Prompt (A1111 syntax).") var prompt: String?
    @Option(help: "Negative prompt.") var negativePrompt: String?
    @Option(help: "Seed of the first image (default random, reported in the result).") var seed: Int64?
    @Option(help: "Inference steps.") var steps: Int64?
    @Option(help: "Write a cheap latent preview PNG here while sampling (overwritten as it goes).") var preview: String?
    @Option(help: "Refresh the preview every N steps.") var previewEvery: Int64 = 1

    var members: [String: JSONValue] {
        var object: [String: JSONValue] = [:]
        if let prompt { object["prompt"] = .string(prompt) }
        if let negativePrompt { object["negative_prompt"] = .string(negativePrompt) }
        if let seed { object["seed"] = .integer(seed) }
        if let steps { object["steps"] = .integer(steps) }
        if let preview { object["preview"] = ["every": .integer(previewEvery), "path": .string(preview)] }
        return object
    }
}
