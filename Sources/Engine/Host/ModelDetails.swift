import Models

extension LoadedModel {
    /// What loading found out, for `status` and `models.list`.
    var details: [String: String] {
        var d: [String: String] = [
            "prediction": networks.predictionType.rawValue,
            "inpainting": networks.isInpainting ? "true" : "false",
            "unet_in_channels": String(networks.unet.config.inChannels),
        ]
        if let family = networks.family { d["family"] = family.rawValue }
        return d
    }
}

extension UpscalerModel {
    var details: [String: String] {
        ["architecture": architecture, "scale": String(network.scale), "declared_scale": String(declaredScale)]
    }
}
