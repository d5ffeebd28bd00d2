import Tensor

/// Scaled dot-product attention in the job's precision: `attention` (fp32, unchanged) or `attentionBF16`
/// (bf16 QKᵀ and PV, fp32 softmax).
func scaledAttention(query: Tensor, key: Tensor, value: Tensor, heads: Int, mask: Tensor? = nil) -> Tensor {
    if ComputePrecision.current == .bf16 {
        return attentionBF16(query: query, key: key, value: value, heads: heads, mask: mask)
    }
    return attention(query: query, key: key, value: value, heads: heads, mask: mask)
}
