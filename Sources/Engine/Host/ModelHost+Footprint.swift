import Models
import Weights

/// A model's memory footprint and whether using it loads anything: what admission control needs before a job
/// starts. Never loads; a resident model is measured as loaded, any other from its files' headers.
public struct HostedFootprint<Footprint: Sendable>: Sendable {
    public let key: ModelKey
    public let footprint: Footprint
    public let resident: Bool
    public var bytesToLoad: Int { resident ? 0 : weightBytes }
    public let weightBytes: Int
    /// The bf16 weight copies a bf16 job on it will make: those not made yet of a resident model, all of them
    /// (every stored tensor at 2 bytes: an upper bound) of one to load.
    public var bf16PendingBytes = 0
}

extension ModelHost {
    public func stableDiffusionFootprint(named name: String) throws -> HostedFootprint<StableDiffusionFootprint> {
        guard let directory = stableDiffusionDirectory else { throw EngineError.noModelsDirectory }
        let entry = try directory.resolve(name)
        let key = ModelKey(kind: .stableDiffusion, name: entry.name)
        if let model: LoadedModel = peek(key, path: entry.path) {
            let networks = model.networks
            let footprint = StableDiffusionFootprint(weightBytes: model.bytes, unetChannels: networks.unet.config.blockOutChannels,
                                                     latentChannels: networks.vae.config.latentChannels,
                                                     vaeChannels: networks.vae.config.blockOutChannels)
            return HostedFootprint(key: key, footprint: footprint, resident: true, weightBytes: model.bytes,
                                   bf16PendingBytes: networks.bf16PendingBytes)
        }
        let footprint: StableDiffusionFootprint
        do { footprint = try FootprintCache.value(kind: "sd", path: entry.path, read: StableDiffusionFootprint.read) } catch {
            throw EngineError.modelLoadFailed(name: entry.name, reason: String(describing: error))
        }
        return HostedFootprint(key: key, footprint: footprint, resident: false, weightBytes: footprint.weightBytes,
                               bf16PendingBytes: footprint.bf16CopyBytes)
    }

    public func upscalerFootprint(named name: String) throws -> HostedFootprint<UpscalerFootprint> {
        guard let folder = upscalerDirectory else { throw EngineError.noModelsDirectory }
        guard let path = UpscalerCatalog.resolve(name, in: folder) else {
            throw EngineError.upscalerNotFound(name: name, directory: folder, available: UpscalerCatalog.available(in: folder))
        }
        let key = ModelKey(kind: .upscaler, name: name)
        if let model: UpscalerModel = peek(key, path: path) {
            let footprint = UpscalerFootprint(network: model.network)
            return HostedFootprint(key: key, footprint: footprint, resident: true, weightBytes: footprint.weightBytes)
        }
        let footprint: UpscalerFootprint
        do { footprint = try FootprintCache.value(kind: "upscaler", path: path, read: UpscalerFootprint.read) } catch {
            throw EngineError.modelLoadFailed(name: name, reason: String(describing: error))
        }
        return HostedFootprint(key: key, footprint: footprint, resident: false, weightBytes: footprint.weightBytes)
    }

    /// A ControlNet's weights (resident, or from its headers), as `controlNet(named:)` would host it.
    public func controlNetFootprint(named name: String) throws -> HostedFootprint<Int> {
        guard let folder = controlNetFolder else { throw EngineError.noModelsDirectory }
        guard let path = folder.resolve(name) else {
            throw EngineError.kindNotFound(kind: "ControlNet", name: name, directory: folder.path, available: folder.names())
        }
        return try adapterFootprint(ModelKey(kind: .controlnet, name: name), path: path)
    }

    /// A T2I-Adapter's weights (resident, or from its headers), as `t2iAdapter(named:)` would host it.
    public func t2iAdapterFootprint(named name: String) throws -> HostedFootprint<Int> {
        guard let folder = t2iAdapterFolder else { throw EngineError.noModelsDirectory }
        guard let path = folder.resolve(name) else {
            throw EngineError.kindNotFound(kind: "T2I-Adapter", name: name, directory: folder.path, available: folder.names())
        }
        return try adapterFootprint(ModelKey(kind: .t2iAdapter, name: name), path: path)
    }

    private func adapterFootprint(_ key: ModelKey, path: String) throws -> HostedFootprint<Int> {
        if let bytes = residentBytes(key, path: path) {
            let pending = (peek(key, path: path) as LoadedControlNet?)?.network.bf16PendingBytes
                ?? (peek(key, path: path) as T2IAdapter?)?.bf16PendingBytes ?? 0
            return HostedFootprint(key: key, footprint: bytes, resident: true, weightBytes: bytes, bf16PendingBytes: pending)
        }
        let bytes: Int
        do { bytes = try FootprintCache.value(kind: "adapter", path: path, read: AdapterWeightFootprint.weightBytes) } catch {
            throw EngineError.modelLoadFailed(name: key.name, reason: String(describing: error))
        }
        // `bytes` is float32 (4 per stored value): its bf16 copies take half.
        return HostedFootprint(key: key, footprint: bytes, resident: false, weightBytes: bytes, bf16PendingBytes: bytes / 2)
    }

    /// The float32 bytes of the patched copies applying LoRA `name` makes (`LoRAPatchFootprint`), plus its own tensors.
    public func loraPatchBytes(named name: String) throws -> Int {
        guard let directory else { throw EngineError.noModelsDirectory }
        let entry = try LoRADirectory(modelsDirectory: directory).resolve(name)
        return try FootprintCache.value(kind: "lora", path: entry.path, read: LoRAPatchFootprint.bytes)
    }
}
