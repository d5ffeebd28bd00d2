/// What a LoRA / LyCORIS file is, from tensor names and shapes alone (for `models.list`: no data is read).
public struct LoRAHeader: Sendable, Equatable {
    /// The base family its shapes say it was trained for (`sd1`, `sd2`, `sdxl`); nil when they do not tell.
    public let family: ModelFamilyID?
    public let type: LoRAType
    public let modules: Int

    public init(names: [String], shape: (String) -> [Int]?) {
        let groups = LoRAKeyGroups(names: names)
        modules = groups.modules.count
        family = LoRAFamilyGuess.family(modules: groups.modules, shape: shape)
        var types = Set<LoRAType>()
        var dora = false
        for roles in groups.modules.values {
            if roles[.doraScale] != nil { dora = true }
            if roles[.hadaW1A] != nil { types.insert(.loha) }
            else if roles[.lokrW1] != nil || roles[.lokrW1A] != nil { types.insert(.lokr) }
            else if roles[.diff] != nil { types.insert(.full) }
            else if let down = roles[.down] {
                let s = shape(down) ?? []
                types.insert(roles[.mid] != nil || (s.count == 4 && s[2] * s[3] > 1) ? .locon : .lora)
            }
        }
        if dora { type = .dora }
        else if types == [.lora, .locon] { type = .locon }
        else { type = types.sorted().first ?? .lora }
    }

    public init(source: any TensorSource) {
        self.init(names: source.names, shape: source.shape(of:))
    }
}

/// The family a LoRA was trained for, from what only that family has: a second text encoder (SDXL's
/// `lora_te1_`/`lora_te2_`/`text_encoder_2.`), or the input width of a text-encoder or cross-attention key
/// projection (CLIP-L 768 and context 768: SD 1.x; OpenCLIP-H 1024: SD 2.x; context 2048: SDXL).
enum LoRAFamilyGuess {
    static func family(modules: [String: [LoRATensorRole: String]], shape: (String) -> [Int]?) -> ModelFamilyID? {
        let keys = modules.keys
        if keys.contains(where: { $0.hasPrefix("lora_te1_") || $0.hasPrefix("lora_te2_") || $0.hasPrefix("text_encoder_2.") }) {
            return .sdxl
        }
        func inputWidth(_ roles: [LoRATensorRole: String]) -> Int? {
            if let down = roles[.down] ?? roles[.hadaW1B], let s = shape(down), s.count >= 2 { return s[1] }
            return nil
        }
        var textWidths = Set<Int>(), contextWidths = Set<Int>()
        for (key, roles) in modules {
            let flat = key.replacingOccurrences(of: ".", with: "_")
            guard let width = inputWidth(roles) else { continue }
            if flat.hasSuffix("self_attn_q_proj") || flat.hasSuffix("attn_in_proj") { textWidths.insert(width) }
            if flat.hasSuffix("attn2_to_k") || flat.hasSuffix("attn2_to_v") { contextWidths.insert(width) }
        }
        if contextWidths.contains(2048) { return .sdxl }
        if contextWidths.contains(1024) || textWidths.contains(1024) { return .sd2 }
        if contextWidths.contains(768) || textWidths.contains(768) { return .sd1 }
        return nil
    }
}
