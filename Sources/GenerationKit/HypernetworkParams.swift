import StrictJSON
import Engine
import Models
import PluginAPI

/// The hypernetworks a generation request asks for: `<hypernet:NAME:W>` tags in its prompts (parsed and removed
/// by the one extra-network tag parser, `ExtraNetworkTags`, which also takes out `<lora:…>` tags) and the
/// structured `hypernetworks` member; both forms combine, tags first. Embeddings need no member: a prompt uses one
/// by writing its name (`EmbeddingsAndHypernetworks` finds them).
///
/// Hypernetwork tags are read from `prompt` and `prompt_2`; in the negative prompts they are removed and ignored
/// (A1111 reads hypernetworks from the positive prompt). Tags removed but not applied are listed in the result's
/// `ignored_tags` (with `<lora:…>` tags of `prompt_2`/`negative_prompt_2` on a model that does not read those
/// members; every other LoRA tag is applied by `ExtraNetworkParams`).
public struct HypernetworkParams: Sendable {
    public struct HypernetworkChoice: Sendable, Equatable {
        public let name: String
        public let weight: Double
        /// The request member it came from (for errors): prompt, prompt_2, hypernetworks[i].
        public let field: String
    }

    /// A structured entry without a weight applies at A1111's `extra_networks_default_multiplier`.
    public static let defaultWeight = 1.0

    /// The prompts' tags per member, in member order (members sent as text only).
    public let tagged: [(field: String, tags: ExtraNetworkTags)]
    public let structured: [HypernetworkChoice]

    public init(_ params: [String: JSONValue]) {
        tagged = ["prompt", "negative_prompt", "prompt_2", "negative_prompt_2"].compactMap { field in
            params[field]?.stringValue.map { (field, ExtraNetworkTags($0)) }
        }
        structured = (params["hypernetworks"]?.arrayValue ?? []).enumerated().compactMap { i, item in
            guard let o = item.objectValue, let name = o["name"]?.stringValue else { return nil }
            return HypernetworkChoice(name: name, weight: o["weight"]?.doubleValue ?? Self.defaultWeight, field: "hypernetworks[\(i)]")
        }
    }

    /// The text of `field` without its tags (nil when not sent).
    public func text(_ field: String) -> String? { tagged.first { $0.field == field }?.tags.text }

    /// Puts the tag-free prompts into `request` (the engine never sees a tag).
    public func strip(_ request: inout GenerationRequest) {
        if let t = text("prompt") { request.prompt = t }
        if let t = text("negative_prompt") { request.negativePrompt = t }
        if let t = text("prompt_2") { request.prompt2 = t }
        if let t = text("negative_prompt_2") { request.negativePrompt2 = t }
    }

    static let positiveFields: Set<String> = ["prompt", "prompt_2"]

    /// `<hypernet:NAME[:WEIGHT]>` of the positive prompts, then the structured member; a tag the parser found a
    /// problem with (a weight that is no number, no name) is a -32602 naming the prompt.
    public func hypernetworks() throws -> [HypernetworkChoice] {
        var out: [HypernetworkChoice] = []
        for (field, tags) in tagged where Self.positiveFields.contains(field) {
            for tag in tags.hypernetworks {
                if let problem = tag.problem { throw PluginError.invalidParam(field: field, reason: "\(tag.source): \(problem)") }
                out.append(HypernetworkChoice(name: tag.name, weight: tag.weight, field: field))
            }
        }
        return out + structured
    }

    /// The members whose `<lora:…>` tags `ExtraNetworkParams` applies (A1111 reads them from both prompts), and
    /// the second prompts where the model reads them.
    static let loraFields: Set<String> = ["prompt", "negative_prompt"]
    static let secondPromptFields: Set<String> = ["prompt_2", "negative_prompt_2"]

    /// Tags that were removed but not applied: hypernetwork tags of negative prompts and, unless
    /// `secondPromptLoRAsApply` (`ExtraNetworkParams.readsSecondPrompts`), LoRA tags of the SDXL second prompts.
    public func ignoredTags(secondPromptLoRAsApply: Bool) -> [String] {
        let applied = secondPromptLoRAsApply ? Self.loraFields.union(Self.secondPromptFields) : Self.loraFields
        return tagged.flatMap { field, tags in
            (Self.positiveFields.contains(field) ? [] : tags.hypernetworks.map(\.source))
                + (applied.contains(field) ? [] : tags.loras.map(\.source))
        }
    }
}
