import Sampling

/// The A1111 "parameters" text written into output PNGs, so an image can be reproduced from its own file:
///
///     <prompt>
///     Negative prompt: <negative prompt>            (omitted when empty)
///     Steps: 20, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 7, Seed: 1234, Size: 512x512,
///     Model: <name>, Denoising strength: 0.5, Clip skip: 2, RNG: CPU
///
/// (one line; `Refiner: <name>, Refiner switch at: 0.8` with a refiner hand-off, before `RNG`, as A1111 writes
/// them; one quoted `ControlNet <i>: "Module: none, Model: <name>, Weight: 1, …"` per control entry, as
/// sd-webui-controlnet writes its units; `Denoising strength` for img2img only, `Clip skip` when > 1, `Guidance rescale` when > 0,
/// `RNG`: "CPU" for torch CPU noise, "NV" for the NVIDIA/Philox family as A1111 names its CPU emulation of
/// GPU noise); with adapters, their tags after the prompt and `Lora hashes` / `TI hashes` after `RNG`
/// (`InfotextAdapters`).
public enum GenerationInfo {
    public static func parameters(_ request: GenerationRequest, seed: UInt64, modelName: String,
                                  refiner: RefinerHandoff? = nil, adapters: InfotextAdapters = InfotextAdapters()) -> String {
        var fields: [(String, String)] = [
            ("Steps", "\(request.steps)"),
            ("Sampler", request.sampler.sampler.displayName),
        ]
        if request.sampler.schedule != .normal {
            fields.append(("Schedule type", SamplerChoice(sampler: request.sampler.sampler, schedule: request.sampler.schedule)
                .displayName.dropFirst(request.sampler.sampler.displayName.count + 1).description))
        }
        fields += [
            ("CFG scale", format(request.cfgScale)),
            ("Seed", "\(seed)"),
            ("Size", "\(request.width)x\(request.height)"),
            ("Model", modelName),
        ]
        if request.initImage != nil { fields.append(("Denoising strength", format(request.strength))) }
        if request.clipSkip > 1 { fields.append(("Clip skip", "\(request.clipSkip)")) }
        if request.guidanceRescale > 0 { fields.append(("Guidance rescale", format(request.guidanceRescale))) }
        if request.sampler.sampler == .ddim, request.eta != 0 { fields.append(("Eta DDIM", format(request.eta))) }
        if let refiner {
            fields += [("Refiner", refiner.model.name), ("Refiner switch at", format(refiner.switchAt))]
        }
        for (i, control) in request.controls.enumerated() {
            // sd-webui-controlnet's unit summary, with this daemon's guess mode in place of its control modes.
            let mode = control.resizeMode.rawValue.split(separator: " ").map { $0.prefix(1).uppercased() + $0.dropFirst() }
                .joined(separator: " ")
            fields.append(("ControlNet \(i)", "Module: none, Model: \(control.controlNet.name), Weight: \(format(control.weight)), "
                + "Resize Mode: \(mode), Guidance Start: \(format(control.start)), Guidance End: \(format(control.end)), "
                + "Guess Mode: \(control.runsInGuessMode ? "True" : "False")"))
        }
        fields.append(("RNG", request.rng == .cpu ? "CPU" : "NV"))
        // A1111's extra generation params come after its own fields.
        if !adapters.loraHashes.isEmpty { fields.append(("Lora hashes", adapters.loraHashes.joined(separator: ", "))) }
        if !adapters.embeddingHashes.isEmpty { fields.append(("TI hashes", adapters.embeddingHashes.joined(separator: ", "))) }
        // Applied LoRAs and hypernetworks as A1111 tags, in order: the prompt re-sent gives the same run.
        var text = request.prompt + adapters.tags
            + request.hypernetworks.entries.map { " <hypernet:\($0.network.name):\($0.strength)>" }.joined()
        if !request.negativePrompt.isEmpty { text += "\nNegative prompt: " + request.negativePrompt }
        text += "\n" + fields.map { "\($0.0): \(quoted($0.1))" }.joined(separator: ", ")
        return text
    }

    /// 7 -> "7", 7.5 -> "7.5" (A1111 prints numbers as Python does).
    static func format(_ x: Double) -> String {
        x == x.rounded() && abs(x) < 1e15 ? String(Int(x)) : String(x)
    }

    /// A1111 quotes values containing ',', ':' or '"' (its `quote()`), e.g. model names with commas.
    static func quoted(_ s: String) -> String {
        guard s.contains(",") || s.contains(":") || s.contains("\"") || s.contains("\n") else { return s }
        let escaped = s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
        return "\"\(escaped)\""
    }
}
