import Models

/// The textual-inversion embeddings one request's prompts use, read from the embeddings folder before the run
/// (`resolve`), by name. Conditioners place them per encoder (`PromptEncoder`); names the prompts do not use are
/// never read, so a corrupt file elsewhere in the folder cannot fail a request.
public struct PromptEmbeddings: Sendable, Equatable {
    public let byName: [String: TextualInversion]
    /// For embeddings an applied LoRA bundles (not the folder's): name → that LoRA's name.
    public let bundledFrom: [String: String]

    public static let none = PromptEmbeddings(byName: [:])

    public init(byName: [String: TextualInversion], bundledFrom: [String: String] = [:]) {
        self.byName = byName
        self.bundledFrom = bundledFrom
    }

    public var isEmpty: Bool { byName.isEmpty }

    /// The names as `tokenizer` splits them, with their vector counts.
    public func vocabulary(_ tokenizer: CLIPTokenizer) -> EmbeddingVocabulary {
        isEmpty ? .empty : EmbeddingVocabulary(names: byName.mapValues(\.vectorCount), tokenizer: tokenizer)
    }

    /// The embeddings of `library` that `texts` (field name -> prompt) use, matched with `tokenizer` (every CLIP
    /// tokenizer of a model splits words the same; they differ in padding only), and of `bundled` (embeddings the
    /// applied LoRAs carry; a folder embedding of the same name wins, as in A1111). A file that cannot be read
    /// fails with the field of the first prompt using it.
    public static func resolve(_ texts: [(field: String, text: String)], tokenizer: CLIPTokenizer,
                               library: EmbeddingLibrary, bundled: [BundledEmbedding] = []) throws -> PromptEmbeddings {
        let folderNames = Set(library.names())
        var fromLoRAs: [String: BundledEmbedding] = [:]
        for b in bundled where !folderNames.contains(b.embedding.name) && fromLoRAs[b.embedding.name] == nil {
            fromLoRAs[b.embedding.name] = b
        }
        let names = folderNames.union(fromLoRAs.keys)
        guard !names.isEmpty else { return .none }
        let chunker = PromptChunker(tokenizer: tokenizer)
        let lookup = EmbeddingVocabulary(names: Dictionary(uniqueKeysWithValues: names.map { ($0, 0) }), tokenizer: tokenizer)
        var found: [String: TextualInversion] = [:]
        var bundledFrom: [String: String] = [:]
        for (field, text) in texts where !text.isEmpty {
            for name in chunker.embeddingNames(in: text, embeddings: lookup) where found[name] == nil {
                if let b = fromLoRAs[name] {
                    found[name] = b.embedding
                    bundledFrom[name] = b.lora
                    continue
                }
                do {
                    found[name] = try library.embedding(named: name)
                } catch let e as TextualInversionError {
                    throw EngineError.invalidParameter(field: field, reason: e.description)
                }
            }
        }
        return PromptEmbeddings(byName: found, bundledFrom: bundledFrom)
    }

    /// Same names with the same vectors.
    public static func == (a: PromptEmbeddings, b: PromptEmbeddings) -> Bool {
        guard a.byName.keys.sorted() == b.byName.keys.sorted() else { return false }
        for (name, x) in a.byName {
            guard let y = b.byName[name], x.widths == y.widths else { return false }
            for (slot, v) in x.vectors where v.scalars != y.vectors[slot]?.scalars { return false }
        }
        return true
    }
}

/// How one prompt used one embedding (the result's report).
public struct EmbeddingUse: Sendable, Equatable {
    public let name: String
    /// The request member: prompt, negative_prompt, prompt_2, negative_prompt_2.
    public let field: String
    public let vectors: Int
    /// How often the name appeared and how many token positions its vectors took.
    public let occurrences: Int
    public let tokens: Int

    public init(name: String, field: String, vectors: Int, occurrences: Int, tokens: Int) {
        self.name = name
        self.field = field
        self.vectors = vectors
        self.occurrences = occurrences
        self.tokens = tokens
    }
}
