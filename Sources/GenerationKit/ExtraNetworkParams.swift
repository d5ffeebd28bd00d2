import StrictJSON
import Engine
import Models
import PluginAPI

/// The adapters a generation request asks for: the structured `loras` member (for plug-ins) and A1111's
/// `<lora:…>` tags in the prompts, both forms combined (structured entries first, then the tags of `prompt`,
/// `negative_prompt`, `prompt_2`, `negative_prompt_2`). The tags are taken out of the prompts before tokenizing;
/// `<hypernet:…>` tags too (`HypernetworkParams` applies those).
///
/// The SDXL second prompts' tags apply only on a model that reads those prompts (`readsSecondPrompts`); on any
/// other model the members are ignored as a whole and their tags listed in `ignored_tags`. An adapter named
/// more than once is applied once per occurrence, each with its own weights (so two `<lora:x:0.5>` act as one
/// `<lora:x:1>` for the linear types), in that order.
public struct ExtraNetworkParams: Sendable {
    /// As sent (schema-validated); checked in `requests()`.
    public var structured: [JSONValue]
    public var promptTags: ExtraNetworkTags
    public var negativePromptTags: ExtraNetworkTags
    /// The SDXL second prompts' tags (nil when the member was not sent).
    public var prompt2Tags: ExtraNetworkTags?
    public var negativePrompt2Tags: ExtraNetworkTags?

    /// `promptField`: the request member the prompts came from (`prompt`, `refine.prompt`); `lorasField` likewise.
    public let promptField: String
    public let negativePromptField: String
    public let lorasField: String
    /// Where the second prompts came from: `prompt_2`, `refine.prompt_2` (the first prompts' prefix).
    public var prompt2Field: String { Self.prefix(of: promptField, "prompt") + "prompt_2" }
    public var negativePrompt2Field: String { Self.prefix(of: negativePromptField, "negative_prompt") + "negative_prompt_2" }

    public init(loras: JSONValue?, prompt: String, negativePrompt: String, prompt2: String? = nil,
                negativePrompt2: String? = nil, promptField: String = "prompt",
                negativePromptField: String = "negative_prompt", lorasField: String = "loras") {
        structured = loras?.arrayValue ?? []
        promptTags = ExtraNetworkTags(prompt)
        negativePromptTags = ExtraNetworkTags(negativePrompt)
        prompt2Tags = prompt2.map(ExtraNetworkTags.init)
        negativePrompt2Tags = negativePrompt2.map(ExtraNetworkTags.init)
        self.promptField = promptField
        self.negativePromptField = negativePromptField
        self.lorasField = lorasField
    }

    /// Whether `model` reads `prompt_2` / `negative_prompt_2` (SDXL's conditioning), so their LoRA tags apply.
    public static func readsSecondPrompts(_ model: LoadedModel) -> Bool { model.takesMicroConditioning }

    static func prefix(of field: String, _ member: String) -> String {
        field.hasSuffix(member) ? String(field.dropLast(member.count)) : ""
    }

    /// The prompts without their tags (what is tokenized).
    public var prompt: String { promptTags.text }
    public var negativePrompt: String { negativePromptTags.text }

    /// Hypernetwork tags of both prompts (parsed, removed from the text, not applied here).
    public var hypernetworks: [ExtraNetworkTags.HypernetworkTag] { promptTags.hypernetworks + negativePromptTags.hypernetworks }

    public var isEmpty: Bool {
        structured.isEmpty && [promptTags, negativePromptTags, prompt2Tags, negativePrompt2Tags].allSatisfy { $0?.loras.isEmpty ?? true }
    }

    /// Every adapter in application order, the second prompts' tags included when `secondPrompts`; a malformed
    /// entry or tag is a -32602 naming it.
    public func requests(secondPrompts: Bool = false) throws -> [LoRARequest] {
        var result: [LoRARequest] = []
        for (i, entry) in structured.enumerated() {
            let field = "\(lorasField)[\(i)]"
            guard let object = entry.objectValue, let name = object["name"]?.stringValue, !name.isEmpty else {
                throw PluginError.invalidParam(field: field, reason: "needs a name")
            }
            func number(_ key: String) throws -> Double? {
                guard let value = object[key] else { return nil }
                guard let number = value.doubleValue, number.isFinite else {
                    throw PluginError.invalidParam(field: "\(field).\(key)", reason: "must be a number")
                }
                return number
            }
            var dyn: Int?
            if let value = object["dyn"] {
                guard let number = value.doubleValue, number.isFinite, number >= 1, number.rounded() == number, number <= Double(Int32.max) else {
                    throw PluginError.invalidParam(field: "\(field).dyn", reason: "dyn of LoRA \"\(name)\" must be a whole number of at least 1 (the DyLoRA ranks to use)")
                }
                dyn = Int(number)
            }
            result.append(LoRARequest(name: name, weight: try number("weight") ?? 1,
                                         textEncoderWeight: try number("text_encoder_weight"),
                                         unetWeight: try number("unet_weight"), dyn: dyn, field: field))
        }
        var tagged = [(promptTags, promptField), (negativePromptTags, negativePromptField)]
        if secondPrompts {
            tagged += [(prompt2Tags, prompt2Field), (negativePrompt2Tags, negativePrompt2Field)].compactMap { tags, field in
                tags.map { ($0, field) }
            }
        }
        for (tags, field) in tagged {
            for tag in tags.loras {
                if let problem = tag.problem { throw PluginError.invalidParam(field: field, reason: "\(tag.source): \(problem)") }
                result.append(LoRARequest(name: tag.name, weight: tag.weight, unetWeight: tag.unetWeight, dyn: tag.dyn,
                                             field: field, tag: tag.source))
            }
        }
        return result
    }
}

/// Applies a request's adapters to the model it runs on, and reports them.
public enum LoRALookup {
    /// The model with the adapters applied (the model itself without any) and the result members to merge
    /// (`loras`, absent when none were asked for). Errors name the entry as -32602.
    public static func apply(_ params: ExtraNetworkParams, to model: LoadedModel,
                             context: JobContext) throws -> (model: LoadedModel, members: [String: JSONValue]) {
        let requests = try params.requests(secondPrompts: ExtraNetworkParams.readsSecondPrompts(model))
        guard !requests.isEmpty else { return (model, [:]) }
        context.progress(stage: "apply_loras", step: 0, steps: 1)
        let adapted: LoRAPatchedModel
        do {
            adapted = try model.applying(requests, directory: context.models.directory.map(LoRADirectory.init(modelsDirectory:)))
        } catch let e as LoRARequestError {
            throw PluginError.invalidParam(field: e.field, reason: e.reason)
        }
        if !adapted.reused { context.models.adaptersChanged(on: model) }
        context.progress(stage: "apply_loras", step: 1, steps: 1)
        return (adapted.model, ["loras": .array(adapted.reports.map(member))])
    }

    static func member(_ report: LoRAReport) -> JSONValue {
        var o: [String: JSONValue] = [
            "name": .string(report.name), "weight": .double(report.weight),
            "text_encoder_weight": .double(report.textEncoderWeight), "unet_weight": .double(report.unetWeight),
            "type": .string(report.type), "matched": JSONValue(report.matched), "total": JSONValue(report.total),
            "unmatched": .array(report.unmatched.map { .string($0) }), "unmatched_count": JSONValue(report.unmatchedCount),
        ]
        o["family"] = report.family.map { .string($0) } ?? .null
        if let dyn = report.dyn { o["dyn"] = JSONValue(dyn) }
        if !report.bundledEmbeddings.isEmpty {
            o["bundled_embeddings"] = .array(report.bundledEmbeddings.map { e in
                var m: [String: JSONValue] = ["name": .string(e.name)]
                if let vectors = e.vectors { m["vectors"] = JSONValue(vectors) }
                if let family = e.family { m["family"] = .string(family) }
                if let error = e.error { m["error"] = .string(error) }
                return .object(m)
            })
        }
        if let warning = report.warning { o["warning"] = .string(warning) }
        return .object(o)
    }
}
