import StrictJSON
import Engine
import PluginAPI

/// The adapters a generation request asks for: A1111 tags in its prompts (`PromptAdapterTags`, removed from the
/// text the engine sees) and the structured `hypernetworks` member; both forms combine, tags first. Embeddings
/// need no member: a prompt uses one by writing its name (`AdapterLookup` finds them).
///
/// Tags are read from `prompt` and `prompt_2`; in the negative prompts they are removed and ignored (A1111 reads
/// extra networks from the positive prompt). Tags of kinds this build does not handle are removed too and
/// listed in the result's `ignored_tags`.
public struct AdapterParams: Sendable {
    public struct HypernetworkChoice: Sendable, Equatable {
        public let name: String
        public let weight: Double
        /// The request member it came from (for errors): prompt, prompt_2, hypernetworks[i].
        public let field: String
    }

    /// Tag kinds handled here; the LoRA work adds "lora" (and "lyco").
    public static let handledKinds: Set<String> = ["hypernet"]
    /// A tag without a weight applies at A1111's `extra_networks_default_multiplier`.
    public static let defaultWeight = 1.0

    /// The prompts' tags per member, in member order (members sent as text only).
    public let tagged: [(field: String, tags: PromptAdapterTags)]
    public let structured: [HypernetworkChoice]

    public init(_ params: [String: JSONValue]) {
        tagged = ["prompt", "negative_prompt", "prompt_2", "negative_prompt_2"].compactMap { field in
            params[field]?.stringValue.map { (field, PromptAdapterTags(parsing: $0)) }
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

    /// `<hypernet:NAME[:WEIGHT]>` of the positive prompts, then the structured member.
    public func hypernetworks() throws -> [HypernetworkChoice] {
        var out: [HypernetworkChoice] = []
        for (field, tags) in tagged where Self.positiveFields.contains(field) {
            for tag in tags.tags(kind: "hypernet") {
                switch tag.number(at: 1) {
                case nil: out.append(HypernetworkChoice(name: tag.name, weight: Self.defaultWeight, field: field))
                case let .success(weight)?: out.append(HypernetworkChoice(name: tag.name, weight: weight, field: field))
                case let .failure(e)?: throw PluginError.invalidParam(field: field, reason: e.description)
                }
            }
        }
        return out + structured
    }

    /// Tags that were removed but not applied: unknown kinds anywhere, every tag of a negative prompt.
    public var ignoredTags: [String] {
        tagged.flatMap { field, tags in
            tags.tags.filter { !Self.positiveFields.contains(field) || !Self.handledKinds.contains($0.kind) }.map(\.text)
        }
    }
}
