import StrictJSON
import Engine
import PluginAPI

/// The one place a generation operation turns `HypernetworkParams` into what the engine applies, once the model is
/// known: the embeddings its prompts use (read from `<--models>/embeddings`, widths checked against the model's
/// encoders) and the hypernetworks (hosted by the model host, widths checked against the UNet). Everything is
/// checked before any work; the returned members go into the result (`EmbeddingsAndHypernetworksResult`).
public enum EmbeddingsAndHypernetworks {
    public static func apply(_ params: HypernetworkParams, model: LoadedModel, to request: inout GenerationRequest,
                             context: JobContext) throws -> [String: JSONValue] {
        let texts: [(field: String, text: String)] = [
            ("prompt", request.prompt), ("negative_prompt", request.negativePrompt),
            ("prompt_2", request.prompt2 ?? ""), ("negative_prompt_2", request.negativePrompt2 ?? ""),
        ]
        let uses: [EmbeddingUse]
        do {
            request.embeddings = try PromptEmbeddings.resolve(texts, tokenizer: model.tokenizer, library: context.models.embeddings,
                                                              bundled: model.bundledEmbeddings)
            uses = try GenerationCore(model: model).embeddingUses(for: request)
        } catch let e as EngineError {
            throw PluginError(e, sizeField: "width", modelField: "model")
        }

        var applied: [HypernetworkUse] = []
        for choice in try params.hypernetworks() {
            do {
                applied.append(try context.models.applyHypernetwork(named: choice.name, weight: choice.weight, model: model, to: &request))
            } catch EngineError.invalidParameter(_, let reason) {
                throw PluginError.invalidParam(field: choice.field, reason: reason)
            } catch let e as EngineError {
                throw PluginError.invalidParam(field: choice.field, reason: e.description)
            }
        }
        return EmbeddingsAndHypernetworksResult.members(uses: uses, embeddings: request.embeddings,
                                     hypernetworks: applied,
                                     ignoredTags: params.ignoredTags(
                                         secondPromptLoRAsApply: ExtraNetworkParams.readsSecondPrompts(model)))
    }
}
