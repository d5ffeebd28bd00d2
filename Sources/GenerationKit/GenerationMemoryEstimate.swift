import Engine
import PluginAPI
import StrictJSON

/// The admission estimate every generation operation shares: the model's weights (resident or to load) and
/// `GenerationMemory`'s working memory for the requested size, batch and guidance. Sizes not sent take the
/// model's default (an img2img/inpaint input of another size is not read here: its own size is then used by
/// the job, and the estimate is that of the default size).
public enum GenerationMemoryEstimate {
    public static func estimate(params: [String: JSONValue], context: JobContext, encodes: Bool) -> MemoryEstimate? {
        let p = GenerationParams(params)
        guard let name = p.model, let model = try? context.models.stableDiffusionFootprint(named: name) else { return nil }
        let defaultSide = model.footprint.unetChannels.count == 3 ? GenerationDefaults.sdxlSide : GenerationDefaults.width
        let working = GenerationMemory.workingBytes(model.footprint, width: p.width ?? defaultSide, height: p.height ?? defaultSide,
                                                    batch: max(1, p.batchSize), guided: p.cfgScale > 1, encodes: encodes)
        var estimate = MemoryEstimate(workingBytes: working)
        estimate.add(model)
        return estimate
    }
}
