/// Finds the network and weight a module key of an adapter file names, in any of the spellings trainers
/// write: kohya (`lora_unet_…`, `lora_te_…`, SDXL `lora_te1_`/`lora_te2_`; SD1/SD2 UNet keys are diffusers paths,
/// SDXL ones LDM paths, all `_`-joined), A1111's module names (`diffusion_model_…`, `cond_stage_model_…`, SDXL
/// `conditioner_embedders_N_…`), diffusers/PEFT (`unet.…`, `text_encoder.…`, `text_encoder_2.…`, PEFT's
/// `base_model.model.`), and diffusers' older attention-processor spelling (`…attn1.processor.to_q_lora`).
public struct LoRAKeyResolver: Sendable {
    public let unet: LoRAModuleIndex
    public let textEncoders: [TextEncoderSlot: LoRAModuleIndex]

    public init(weights: NetworkWeights, unetConfig: UNetConfig) {
        unet = LoRAModuleIndex.unet(weights.unet, config: unetConfig)
        textEncoders = weights.textEncoders.mapValues(LoRAModuleIndex.textEncoder)
    }

    public func resolve(_ key: String) -> (component: LoRAComponent, target: LoRATarget)? {
        let underscored: [(String, LoRAComponent)] = [
            ("lora_unet_", .unet), ("lora_te1_", .textEncoder(.textEncoder)), ("lora_te2_", .textEncoder(.textEncoder2)),
            ("lora_te_", firstTextEncoder), ("diffusion_model_", .unet),
            ("conditioner_embedders_0_", .textEncoder(.textEncoder)), ("conditioner_embedders_1_", .textEncoder(.textEncoder2)),
            ("cond_stage_model_", firstTextEncoder),
        ]
        for (prefix, component) in underscored where key.hasPrefix(prefix) {
            return lookup(String(key.dropFirst(prefix.count)), in: component)
        }
        var path = key
        if path.hasPrefix("base_model.model.") { path = String(path.dropFirst("base_model.model.".count)) }
        let dotted: [(String, LoRAComponent)] = [
            ("unet.", .unet), ("text_encoder_2.", .textEncoder(.textEncoder2)), ("text_encoder.", .textEncoder(.textEncoder)),
        ]
        var component = LoRAComponent.unet  // diffusers' attention-processor files carry no component prefix
        for (prefix, c) in dotted where path.hasPrefix(prefix) {
            component = c
            path = String(path.dropFirst(prefix.count))
            break
        }
        return lookup(Self.modernised(path, textEncoder: component.isTextEncoder), in: component)
    }

    /// SD 1.x/2.x keys say `lora_te_`; a model whose only encoder is `text_encoder_2` (the SDXL refiner) has
    /// none for them.
    private var firstTextEncoder: LoRAComponent { .textEncoder(.textEncoder) }

    private func lookup(_ path: String, in component: LoRAComponent) -> (component: LoRAComponent, target: LoRATarget)? {
        let flat = path.replacingOccurrences(of: ".", with: "_")
        switch component {
        case .unet: return unet.target(flat).map { (component, $0) }
        case let .textEncoder(slot): return textEncoders[slot]?.target(flat).map { (component, $0) }
        }
    }

    /// diffusers' older spelling in today's module paths: the processor segment dropped, `to_out` → `to_out.0`,
    /// and for text encoders `to_q`/`to_k`/`to_v`/`to_out` → `q_proj`/`k_proj`/`v_proj`/`out_proj`.
    static func modernised(_ path: String, textEncoder: Bool) -> String {
        var parts = path.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        parts.removeAll { $0 == "processor" }
        guard let last = parts.last else { return path }
        if textEncoder {
            let renames = ["to_q": "q_proj", "to_k": "k_proj", "to_v": "v_proj", "to_out": "out_proj"]
            if let renamed = renames[last] { parts[parts.count - 1] = renamed }
        } else if last == "to_out" {
            parts.append("0")
        }
        return parts.joined(separator: ".")
    }
}
