import Engine
import Imaging
import PluginAPI
import StrictJSON
import Tensor

/// The admission estimate every generation operation shares: the model's weights (resident or to load), those
/// of its ControlNets (`control`) and T2I-Adapters (`adapters`), the patched copies its LoRAs (`loras` and
/// `<lora:…>` tags) make, and `GenerationMemory`'s working memory for the requested size, batch and guidance
/// with each control's residuals, each adapter's features and the decoded input image. Sizes not sent take the
/// input image's (its header only: nothing is decoded), extended by `extend` (outpaint), or the model's default.
/// Everything is read from headers and configs, kept per file version, never loaded.
public enum GenerationMemoryEstimate {
    public static func estimate(params: [String: JSONValue], context: JobContext, encodes: Bool) -> MemoryEstimate? {
        let p = GenerationParams(params)
        guard let name = p.model, let model = try? context.models.stableDiffusionFootprint(named: name) else { return nil }
        let defaultSide = model.footprint.unetChannels.count == 3 ? GenerationDefaults.sdxlSide : GenerationDefaults.width
        let input = encodes ? inputSize(params["image"], context: context) : nil
        let extend = params["extend"]?.objectValue ?? [:]
        func grown(_ side: Int?, _ a: String, _ b: String) -> Int? {
            side.map { $0 + max(0, extend[a]?.intValue ?? 0) + max(0, extend[b]?.intValue ?? 0) }
        }
        let width = p.width ?? grown(input?.width, "left", "right") ?? defaultSide
        let height = p.height ?? grown(input?.height, "top", "bottom") ?? defaultSide
        let batch = max(1, p.batchSize), guided = p.cfgScale > 1
        var working = Double(GenerationMemory.workingBytes(model.footprint, width: width, height: height, batch: batch,
                                                           guided: guided, encodes: encodes))
        if let input { working += Double(GenerationMemory.inputBytes(width: input.width, height: input.height, bands: input.bands)) }
        // A bf16 job narrows each network's weights on first use and keeps the copies with the model: those of the
        // SD model, each ControlNet and T2I-Adapter not narrowed yet count as weights to load.
        let bf16 = (try? PrecisionParam.resolve(params["precision"])) == .bf16
        var estimate = MemoryEstimate(workingBytes: 0)
        estimate.add(model, bf16: bf16)
        for control in p.controls {
            guard let net = try? context.models.controlNetFootprint(named: control.model) else { continue }
            estimate.add(net, bf16: bf16)
            working += Double(GenerationMemory.controlBytes(model.footprint, width: width, height: height, batch: batch, guided: guided,
                                                            controlNetWeightBytes: net.weightBytes))
        }
        for adapter in T2IAdapterParams(params).entries {
            guard let net = try? context.models.t2iAdapterFootprint(named: adapter.model) else { continue }
            estimate.add(net, bf16: bf16)
            working += Double(GenerationMemory.adapterBytes(model.footprint, width: width, height: height))
        }
        // Patched copies are made for the job (or kept from the previous job with the same set): counted as
        // weights to load, the conservative side of a reused set.
        for lora in (try? p.extraNetworks.requests(secondPrompts: true)) ?? [] {
            guard let bytes = try? context.models.loraPatchBytes(named: lora.name) else { continue }
            // In bf16 the patched (float32) copies get bf16 copies of their own, half their size; the networks a
            // set rebuilds use the base's copies for every other weight (counted with the model above).
            let copies = bytes + (bf16 ? bytes / 2 : 0)
            estimate.weightBytes += copies
            estimate.weightBytesToLoad += copies
        }
        estimate.workingBytes = ByteEstimate.clamped(working)
        return estimate
    }

    /// The input image's size from its header (a lazy, sequential load decodes no pixels; a file is not read
    /// beyond what its header needs, since the job reads it whole again); nil when it cannot be read (the job
    /// then reports why).
    public static func inputSize(_ value: JSONValue?, context: JobContext) -> (width: Int, height: Int, bands: Int)? {
        guard let image = try? context.imageHeader(value, field: "image") else { return nil }
        return (image.width, image.height, image.bands)
    }
}
