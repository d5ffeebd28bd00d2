/// Which text-encoder slot of a pipeline an encoder fills, by the diffusers folder names.
///
/// SD 1.x/2.x have one encoder (`text_encoder`). SDXL has two: CLIP-L in `text_encoder` and OpenCLIP bigG
/// (`CLIPTextModelWithProjection`, the source of the pooled embeddings) in `text_encoder_2`; the refiner
/// ships only `text_encoder_2`.
public enum TextEncoderSlot: String, CaseIterable, Sendable {
    case textEncoder = "text_encoder"
    case textEncoder2 = "text_encoder_2"

    /// The tokenizer folder that goes with the encoder (`tokenizer`, `tokenizer_2`).
    public var tokenizerFolder: String {
        switch self {
        case .textEncoder: return "tokenizer"
        case .textEncoder2: return "tokenizer_2"
        }
    }
}

/// One loaded text encoder with the tokenizer that feeds it.
public struct LoadedTextEncoder: Sendable {
    public let slot: TextEncoderSlot
    public let encoder: CLIPTextEncoder
    public let tokenizer: TokenizerFiles

    public init(slot: TextEncoderSlot, encoder: CLIPTextEncoder, tokenizer: TokenizerFiles) {
        self.slot = slot
        self.encoder = encoder
        self.tokenizer = tokenizer
    }
}
