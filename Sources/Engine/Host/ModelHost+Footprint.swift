import Models

/// A model's memory footprint and whether using it loads anything: what admission control needs before a job
/// starts. Never loads; a resident model is measured as loaded, any other from its files' headers.
public struct HostedFootprint<Footprint: Sendable>: Sendable {
    public let key: ModelKey
    public let footprint: Footprint
    public let resident: Bool
    public var bytesToLoad: Int { resident ? 0 : weightBytes }
    public let weightBytes: Int
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
            return HostedFootprint(key: key, footprint: footprint, resident: true, weightBytes: model.bytes)
        }
        let footprint: StableDiffusionFootprint
        do { footprint = try StableDiffusionFootprint.read(path: entry.path) } catch {
            throw EngineError.modelLoadFailed(name: entry.name, reason: String(describing: error))
        }
        return HostedFootprint(key: key, footprint: footprint, resident: false, weightBytes: footprint.weightBytes)
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
        do { footprint = try UpscalerFootprint.read(path: path) } catch {
            throw EngineError.modelLoadFailed(name: name, reason: String(describing: error))
        }
        return HostedFootprint(key: key, footprint: footprint, resident: false, weightBytes: footprint.weightBytes)
    }
}
