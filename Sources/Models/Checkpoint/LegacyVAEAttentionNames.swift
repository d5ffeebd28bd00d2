import Tensor
import Weights

/// Presents a VAE saved with diffusers' pre-0.14 attention names (`query`, `key`, `value`, `proj_attn`,
/// still found in many Hub folders) under today's names (`to_q`, `to_k`, `to_v`, `to_out.0`), as
/// diffusers' own loader converts them. Sources already using today's names pass through unchanged.
struct LegacyVAEAttentionNames: TensorSource {
    let base: TensorSource
    private let newToOld: [String: String]
    let names: [String]

    init(_ base: TensorSource) {
        self.base = base
        let renames = ["query": "to_q", "key": "to_k", "value": "to_v", "proj_attn": "to_out.0"]
        var mapping: [String: String] = [:]
        var presented: [String] = []
        for name in base.names {
            var parts = name.split(separator: ".").map(String.init)
            if parts.count >= 4, parts[parts.count - 4] == "attentions", parts[parts.count - 3] == "0",
               let replacement = renames[parts[parts.count - 2]] {
                parts[parts.count - 2] = replacement
                let renamed = parts.joined(separator: ".")
                mapping[renamed] = name
                presented.append(renamed)
            } else {
                presented.append(name)
            }
        }
        newToOld = mapping
        names = presented.sorted()
    }

    func shape(of name: String) -> [Int]? { base.shape(of: newToOld[name] ?? name) }
    func tensor(_ name: String) throws -> Tensor { try base.tensor(newToOld[name] ?? name) }
}
