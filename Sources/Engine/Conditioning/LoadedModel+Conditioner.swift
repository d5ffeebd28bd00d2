import Models

/// Which conditioner a model's networks call for: the family's, decided by what the UNet takes.
public enum Conditioners {
    /// SDXL (a UNet with `text_time` added conditioning): both encoders, pooled embeddings and time ids; the
    /// refiner has only the second encoder and an aesthetic score. SD 1.x/2.x: the one CLIP encoder.
    public static func make(for networks: StableDiffusionModels, tokenizers: [CLIPTokenizer]) throws -> any Conditioner {
        guard tokenizers.count == networks.textEncoders.count else {
            throw EngineError.invalidParameter(field: "model", reason: "\(networks.textEncoders.count) text encoders but \(tokenizers.count) tokenizers")
        }
        let pairs = Array(zip(networks.textEncoders, tokenizers))
        guard networks.unet.config.additionEmbedType == "text_time" else {
            return SingleCLIPConditioner(encoder: PromptEncoder(encoder: pairs[0].0.encoder, tokenizer: pairs[0].1))
        }
        guard let second = pairs.first(where: { $0.0.slot == .textEncoder2 }) else {
            throw EngineError.invalidParameter(field: "model", reason: "an SDXL UNet needs a second text encoder (text_encoder_2)")
        }
        let first = pairs.first { $0.0.slot == .textEncoder }
        return try SDXLConditioner(textEncoder: first?.0.encoder, tokenizer: first?.1,
                                   textEncoder2: second.0.encoder, tokenizer2: second.1,
                                   forceZerosForEmptyPrompt: networks.flags.forceZerosForEmptyPrompt,
                                   timeIDLayout: networks.flags.requiresAestheticsScore ? .aestheticScore : .sizes)
    }
}
