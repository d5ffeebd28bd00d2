import Foundation

/// The text normalisation of transformers' CLIPTokenizer (tokenizers' normalizer sequence): Unicode NFC,
/// every run of White_Space characters replaced by one space, then lowercasing one scalar at a time
/// (the full, context-free mapping: "İ" becomes "i" + U+0307 and "Σ" always becomes "σ", never the
/// final "ς"). No stripping: pre-tokenization drops the spaces.
enum CLIPNormalizer {
    static func normalize(_ text: String) -> [Unicode.Scalar] {
        let composed = text.precomposedStringWithCanonicalMapping
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(composed.unicodeScalars.count)
        var inWhitespace = false
        for scalar in composed.unicodeScalars {
            if scalar.properties.isWhitespace {
                if !inWhitespace { out.append(" ") }
                inWhitespace = true
                continue
            }
            inWhitespace = false
            let lower = scalar.properties.lowercaseMapping
            if lower.unicodeScalars.count == 1, lower.unicodeScalars.first == scalar {
                out.append(scalar)
            } else {
                out.append(contentsOf: lower.unicodeScalars)
            }
        }
        return out
    }
}
