import Weights

/// Every spelling an adapter may use for a module of one network, each mapped to the module's weight in our
/// diffusers-named tensors: built from the model's actual tensor names (never guessed), with `.` → `_` as
/// kohya writes them, plus the LDM/sgm names (kohya SDXL, A1111) for the UNet and the OpenCLIP/LDM names for
/// text encoders. Keys are looked up underscore-joined.
public struct LoRAModuleIndex: Sendable {
    private var targets: [String: LoRATarget] = [:]
    private var ambiguous: Set<String> = []

    public func target(_ underscored: String) -> LoRATarget? {
        ambiguous.contains(underscored) ? nil : targets[underscored]
    }

    private mutating func add(_ alias: String, _ target: LoRATarget) {
        let key = alias.replacingOccurrences(of: ".", with: "_")
        if let existing = targets[key], existing != target { ambiguous.insert(key); return }
        targets[key] = target
    }

    /// Modules of a UNet: its weights' module paths, and the LDM paths `LDMModuleNames` gives for its structure.
    public static func unet(_ weights: ComponentWeights, config: UNetConfig) -> LoRAModuleIndex {
        var index = LoRAModuleIndex()
        let modules = Set(weights.names.filter { $0.hasSuffix(".weight") }.map { String($0.dropLast(".weight".count)) })
        for module in modules { index.add(module, .weight(module + ".weight")) }
        let levels = config.downBlockTypes.count
        if let layers = try? config.layersPerBlock.expanded(to: levels, field: "layers_per_block"),
           let depths = try? config.transformerLayersPerBlock.expanded(to: levels, field: "transformer_layers_per_block"),
           Set(layers).count == 1, let perBlock = layers.first {
            let ldm = LDMModuleNames.unet(
                layersPerBlock: perBlock, downHasAttention: config.downBlockTypes.map { $0.hasPrefix("CrossAttn") },
                upHasAttention: config.upBlockTypes.map { $0.hasPrefix("CrossAttn") }, transformerDepths: depths,
                midTransformerDepth: config.midBlockType == nil ? 0 : depths[levels - 1],
                addedEmbedding: config.additionEmbedType == "text_time")
            for (ldmModule, diffusers) in ldm where modules.contains(diffusers) {
                index.add(ldmModule, .weight(diffusers + ".weight"))
            }
        }
        return index
    }

    /// Modules of a CLIP text encoder: transformers' paths with and without `text_model.`, the same behind LDM's
    /// `transformer.` (SD1's `cond_stage_model.transformer.text_model…`), and OpenCLIP's resblock names
    /// (`model.transformer.resblocks.N.attn.in_proj` as one fused q/k/v target, `attn.out_proj`, `mlp.c_fc`,
    /// `mlp.c_proj`; A1111's `attn.q_proj`… spelling of its split projections).
    public static func textEncoder(_ weights: ComponentWeights) -> LoRAModuleIndex {
        var index = LoRAModuleIndex()
        let modules = weights.names.filter { $0.hasSuffix(".weight") }.map { String($0.dropLast(".weight".count)) }
        let hasPrefix = modules.contains { $0.hasPrefix("text_model.") }
        for module in modules {
            let target = LoRATarget.weight(module + ".weight")
            let bare = hasPrefix && module.hasPrefix("text_model.") ? String(module.dropFirst("text_model.".count)) : module
            for alias in [bare, "text_model." + bare, "transformer.text_model." + bare, "transformer." + bare] {
                index.add(alias, target)
            }
        }
        let stem = hasPrefix ? "text_model.encoder.layers." : "encoder.layers."
        var layer = 0
        while modules.contains(stem + "\(layer).self_attn.q_proj") {
            let l = stem + "\(layer)."
            let projections = ["q_proj", "k_proj", "v_proj"].map { l + "self_attn.\($0).weight" }
            var openCLIP: [(String, LoRATarget)] = [
                ("attn.in_proj", .fusedRows(projections)), ("attn", .fusedRows(projections)),
                ("attn.out_proj", .weight(l + "self_attn.out_proj.weight")),
                ("mlp.c_fc", .weight(l + "mlp.fc1.weight")), ("mlp.c_proj", .weight(l + "mlp.fc2.weight")),
            ]
            for (i, name) in ["q_proj", "k_proj", "v_proj"].enumerated() { openCLIP.append(("attn." + name, .weight(projections[i]))) }
            for (name, target) in openCLIP {
                for root in ["model.transformer.resblocks.", "transformer.resblocks."] { index.add(root + "\(layer)." + name, target) }
            }
            layer += 1
        }
        return index
    }
}
