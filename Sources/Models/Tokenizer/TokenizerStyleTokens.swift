import Weights

extension CLIPSpecialTokens {
    /// The special tokens a family's tokenizer registers over the standard vocabulary (`ModelFamily.tokenizer`).
    public init(_ style: TokenizerStyle) {
        switch style {
        case .openAICLIP: self = .clip
        case .openCLIP: self = .sd2
        }
    }
}
