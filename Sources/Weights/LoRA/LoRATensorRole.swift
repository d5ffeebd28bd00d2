/// What one tensor of a LoRA / LyCORIS file is, told by the suffix after its module key.
///
/// Every trainer spells the same parts differently (kohya `lora_down`, PEFT `lora_A`, diffusers' older
/// `to_q_lora.down` and `lora_linear_layer.down`); all are folded into these roles so the math sees one shape.
public enum LoRATensorRole: String, CaseIterable, Sendable {
    case down, up, mid, alpha
    case hadaW1A, hadaW1B, hadaW2A, hadaW2B, hadaT1, hadaT2
    case lokrW1, lokrW1A, lokrW1B, lokrW2, lokrW2A, lokrW2B, lokrT2
    case diff, diffBias
    /// DoRA's magnitude (LyCORIS `dora_scale`, PEFT `lora_magnitude_vector`).
    case doraScale

    /// (suffix, role), longest suffixes first so `.lora_linear_layer.down.weight` wins over shorter ones.
    static let suffixes: [(String, LoRATensorRole)] = [
        (".lora_linear_layer.down.weight", .down), (".lora_linear_layer.up.weight", .up),
        ("_lora.down.weight", .down), ("_lora.up.weight", .up),
        (".lora_down.weight", .down), (".lora_up.weight", .up), (".lora_mid.weight", .mid),
        (".lora_A.weight", .down), (".lora_B.weight", .up),
        (".lora_A.default.weight", .down), (".lora_B.default.weight", .up),
        (".lora_magnitude_vector", .doraScale), (".dora_scale", .doraScale),
        (".hada_w1_a", .hadaW1A), (".hada_w1_b", .hadaW1B), (".hada_w2_a", .hadaW2A), (".hada_w2_b", .hadaW2B),
        (".hada_t1", .hadaT1), (".hada_t2", .hadaT2),
        (".lokr_w1_a", .lokrW1A), (".lokr_w1_b", .lokrW1B), (".lokr_w2_a", .lokrW2A), (".lokr_w2_b", .lokrW2B),
        (".lokr_w1", .lokrW1), (".lokr_w2", .lokrW2), (".lokr_t2", .lokrT2),
        (".diff_b", .diffBias), (".diff", .diff),
        (".alpha", .alpha),
    ]

    /// Splits a tensor name into its module key and role; nil when no known suffix ends it.
    public static func split(_ name: String) -> (module: String, role: LoRATensorRole)? {
        for (suffix, role) in suffixes where name.hasSuffix(suffix) && name.count > suffix.count {
            return (String(name.dropLast(suffix.count)), role)
        }
        return nil
    }
}
