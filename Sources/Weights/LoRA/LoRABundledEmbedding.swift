import Tensor

/// Textual-inversion vectors a LoRA file carries for the words it was trained with, as A1111's loader reads them:
/// every `bundle_emb.NAME.REST` tensor belongs to embedding NAME (the key's second dot-separated part), REST being
/// the key inside an embedding file (`string_to_param.*`, kohya's SDXL `clip_l` / `clip_g`, `emb_params`). The
/// embedding loader turns the tensors into an embedding by its usual layout rules.
public struct LoRABundledEmbedding: Sendable {
    public static let prefix = "bundle_emb."

    public let name: String
    /// REST → tensor, read in float32.
    public let tensors: [String: Tensor]

    public init(name: String, tensors: [String: Tensor]) {
        self.name = name
        self.tensors = tensors
    }

    /// (NAME, REST) of a `bundle_emb.NAME.REST` key; nil for any other key or an empty part.
    public static func split(_ key: String) -> (name: String, rest: String)? {
        guard key.hasPrefix(prefix) else { return nil }
        let tail = key.dropFirst(prefix.count)
        guard let dot = tail.firstIndex(of: ".") else { return nil }
        let name = String(tail[..<dot]), rest = String(tail[tail.index(after: dot)...])
        guard !name.isEmpty, !rest.isEmpty else { return nil }
        return (name, rest)
    }
}
