import Models

/// Whether a `control` entry can steer a checkpoint: its step range, its family against the checkpoint's (named
/// both), the shapes its residuals will have against the UNet's skips, and its control image's channels against
/// the ControlNet's hint channels. Each failure names the entry's member (`control[1].model`).
enum ControlNetCompatibility {
    static func check(_ control: ControlNetInput, model: LoadedModel) throws {
        let field = control.field
        let cn = control.controlNet
        let network = cn.network
        guard control.weight.isFinite else {
            throw EngineError.invalidParameter(field: field + ".weight", reason: "must be a finite number")
        }
        guard control.start >= 0, control.start <= 1 else {
            throw EngineError.invalidParameter(field: field + ".start", reason: "must be in [0, 1], got \(control.start)")
        }
        guard control.end >= 0, control.end <= 1 else {
            throw EngineError.invalidParameter(field: field + ".end", reason: "must be in [0, 1], got \(control.end)")
        }
        guard control.start < control.end else {
            throw EngineError.invalidParameter(field: field + ".start",
                reason: "must be below end (start \(control.start), end \(control.end)): the ControlNet would act on no step")
        }
        if let family = model.networks.family, family != cn.family {
            throw EngineError.invalidParameter(field: field + ".model",
                reason: "ControlNet '\(cn.name)' is for \(cn.family.rawValue) models, the checkpoint '\(model.name)' is \(family.rawValue)")
        }
        let unet = model.networks.unet
        var problems: [String] = []
        if network.contextDim != unet.contextDim {
            problems.append("context width \(network.contextDim) vs the UNet's \(unet.contextDim)")
        }
        if network.config.unet.blockOutChannels != unet.config.blockOutChannels {
            problems.append("block channels \(network.config.unet.blockOutChannels) vs the UNet's \(unet.config.blockOutChannels)")
        }
        if network.skipConnectionCount != unet.skipConnectionCount {
            problems.append("\(network.skipConnectionCount) residuals for the UNet's \(unet.skipConnectionCount) skip connections")
        }
        if (network.textTimeEmbedding == nil) != (unet.textTimeEmbedding == nil) {
            problems.append(network.textTimeEmbedding == nil ? "no added text/time embedding (the UNet has one)"
                                                             : "an added text/time embedding the UNet lacks")
        }
        let latents = model.networks.vae.config.latentChannels
        if network.config.unet.inChannels != latents {
            problems.append("\(network.config.unet.inChannels) input channels for \(latents)-channel latents")
        }
        let factor = GenerationCore(model: model).vaeScaleFactor
        if network.hintDownscale != factor {
            problems.append("a hint block that downscales by \(network.hintDownscale), the VAE by \(factor)")
        }
        if !problems.isEmpty {
            throw EngineError.invalidParameter(field: field + ".model",
                reason: "ControlNet '\(cn.name)' does not fit the checkpoint '\(model.name)': " + problems.joined(separator: "; "))
        }
        try ControlNetHints.checkChannels(control)
    }
}
