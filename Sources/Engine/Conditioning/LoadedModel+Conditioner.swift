extension LoadedModel {
    /// The conditioner of this model's family (every loadable family has one CLIP text encoder today).
    public var conditioner: any Conditioner {
        SingleCLIPConditioner(encoder: PromptEncoder(model: self))
    }
}
