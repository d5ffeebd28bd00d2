/// What the PNG `parameters` text says about adapters, as A1111 writes it: one `<lora:NAME:TE[:UNET]>` tag per
/// applied LoRA after the prompt (so the text re-sent repeats the run, whether the LoRAs came as tags or as
/// `loras` entries), `Lora hashes: "NAME: HASH, …"` and `TI hashes: "NAME: HASH, …"` (A1111's extension and
/// textual-inversion fields; names without ':' and ','; a bundled embedding's hash is its LoRA's name, as A1111's
/// `BundledTIHash`).
public struct InfotextAdapters: Sendable, Equatable {
    public var loras: [AppliedLoRA] = []
    /// "NAME: HASH" per applied LoRA, in order.
    public var loraHashes: [String] = []
    /// "NAME: HASH" per embedding the prompts used, by name.
    public var embeddingHashes: [String] = []

    public init(loras: [AppliedLoRA] = [], loraHashes: [String] = [], embeddingHashes: [String] = []) {
        self.loras = loras
        self.loraHashes = loraHashes
        self.embeddingHashes = embeddingHashes
    }

    /// `model`'s applied LoRAs and the embeddings `request` uses (folder files looked up in `library`).
    public init(model: LoadedModel, request: GenerationRequest, library: EmbeddingLibrary) {
        loras = model.appliedLoRAs
        loraHashes = model.appliedLoRAs.compactMap { lora in
            ModelFileHashes.lora(path: lora.path).map { "\(Self.plain(lora.name)): \($0)" }
        }
        embeddingHashes = request.embeddings.byName.keys.sorted().compactMap { name in
            if let lora = request.embeddings.bundledFrom[name] { return "\(Self.plain(name)): \(lora)" }
            guard let path = library.folder?.entry(named: name)?.path,
                  let hash = ModelFileHashes.short(path: path, addnet: false) else { return nil }
            return "\(Self.plain(name)): \(hash)"
        }
    }

    /// The tags written after the prompt: the UNet weight only when it differs (A1111's positional form), and
    /// the DyLoRA rank limit as `dyn=N` when one was used.
    public var tags: String {
        loras.map { l in
            let te = GenerationInfo.format(l.textEncoderWeight)
            let unet = l.unetWeight == l.textEncoderWeight ? "" : ":\(GenerationInfo.format(l.unetWeight))"
            return " <lora:\(l.name):\(te)\(unet)\(l.dyn.map { ":dyn=\($0)" } ?? "")>"
        }.joined()
    }

    /// A1111 strips ':' and ',' from names in hash lists.
    static func plain(_ name: String) -> String { name.filter { $0 != ":" && $0 != "," } }
}
