import StrictJSON
import Engine
import PluginAPI

/// The result members that say which adapters a generation applied; absent when none were used, so results of
/// plain requests stay as they were.
public enum EmbeddingsAndHypernetworksResult {
    static func members(uses: [EmbeddingUse], embeddings: PromptEmbeddings,
                        hypernetworks: [HypernetworkUse],
                        ignoredTags: [String]) -> [String: JSONValue] {
        var members: [String: JSONValue] = [:]
        var order: [String] = []
        for use in uses where !order.contains(use.name) { order.append(use.name) }
        if !order.isEmpty {
            members["embeddings"] = .array(order.map { name in
                let mine = uses.filter { $0.name == name }
                var o: [String: JSONValue] = [
                    "name": .string(name),
                    "vectors": JSONValue(mine.first?.vectors ?? 0),
                    "replaced": .array(mine.map { use in
                        ["prompt": .string(use.field), "occurrences": JSONValue(use.occurrences), "tokens": JSONValue(use.tokens)]
                    }),
                ]
                if let family = embeddings.byName[name]?.family { o["family"] = .string(family) }
                if let lora = embeddings.bundledFrom[name] { o["lora"] = .string(lora) }
                return .object(o)
            })
        }
        if !hypernetworks.isEmpty {
            members["hypernetworks"] = .array(hypernetworks.map { h in
                var o: [String: JSONValue] = ["name": .string(h.name), "weight": .double(h.weight),
                                              "matched_widths": .array(h.matchedWidths.map { JSONValue($0) }),
                                              "widths": .array(h.widths.map { JSONValue($0) })]
                if let family = h.family { o["family"] = .string(family) }
                return .object(o)
            })
        }
        if !ignoredTags.isEmpty { members["ignored_tags"] = .array(ignoredTags.map { .string($0) }) }
        return members
    }

    /// The result-schema properties of those members.
    public static var properties: [String: JSONValue] {
        [
            "embeddings": ["type": "array", "description": "textual-inversion embeddings the prompts used",
                           "items": ResultSchemas.object([
                               "name": ["type": "string", "minLength": 1],
                               "vectors": ["type": "integer", "minimum": 1],
                               "family": ["type": "string", "description": "sd1 (768), sd2 (1024), sdxl (clip_l + clip_g); absent for other widths"],
                               "lora": ["type": "string", "description": "the applied LoRA that bundles it (bundle_emb.*); absent for the embeddings folder's"],
                               "replaced": ["type": "array", "items": ResultSchemas.object([
                                   "prompt": ["type": "string", "enum": ["prompt", "negative_prompt", "prompt_2", "negative_prompt_2"]],
                                   "occurrences": ["type": "integer", "minimum": 1],
                                   "tokens": ["type": "integer", "minimum": 1, "description": "token positions its vectors took"],
                               ], required: ["prompt", "occurrences", "tokens"])],
                           ], required: ["name", "vectors", "replaced"])],
            "hypernetworks": ["type": "array", "description": "hypernetworks applied to the UNet's attentions, in order",
                              "items": ResultSchemas.object([
                                  "name": ["type": "string", "minLength": 1],
                                  "weight": ["type": "number"],
                                  "family": ["type": "string", "description": "sd1 (a 768-wide module), sd2 (1024); absent otherwise"],
                                  "matched_widths": ["type": "array", "items": ["type": "integer"], "description": "module widths this model's attentions have"],
                                  "widths": ["type": "array", "items": ["type": "integer"], "description": "every module width in the file"],
                              ], required: ["name", "weight", "matched_widths", "widths"])],
            "ignored_tags": ["type": "array", "items": ["type": "string"],
                             "description": "prompt tags removed but not applied: hypernet tags of a negative prompt, and LoRA tags where LoRAs are not applied"],
        ]
    }
}
