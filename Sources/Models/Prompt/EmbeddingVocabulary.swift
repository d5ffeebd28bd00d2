/// The embedding names a prompt can use, as token sequences of one tokenizer: A1111's rule is that an embedding
/// is used where its name's tokens appear in the tokenized prompt (on token boundaries, so `cat` never matches
/// inside `cats` when the tokenizer splits them differently), the longest name winning at a position.
public struct EmbeddingVocabulary: Sendable {
    public struct Entry: Sendable, Equatable {
        public let name: String
        public let ids: [Int32]
        /// Tokens it takes in a chunk (0 while only looking names up, before the files are read).
        public let vectors: Int
    }

    /// Entries by first token, longest first (A1111's `find_embedding_at_position`).
    let byFirstToken: [Int32: [Entry]]

    public static let empty = EmbeddingVocabulary(entries: [])

    /// `vectors`: name -> vector count; a name that tokenizes to nothing is skipped.
    public init(names vectors: [String: Int], tokenizer: CLIPTokenizer) {
        self.init(entries: vectors.compactMap { name, count in
            let ids = tokenizer.tokenize(name)
            return ids.isEmpty ? nil : Entry(name: name, ids: ids, vectors: count)
        })
    }

    init(entries: [Entry]) {
        var table: [Int32: [Entry]] = [:]
        for e in entries { table[e.ids[0], default: []].append(e) }
        for key in table.keys {
            table[key]?.sort { ($0.ids.count, $1.name) > ($1.ids.count, $0.name) }
        }
        byFirstToken = table
    }

    public var isEmpty: Bool { byFirstToken.isEmpty }

    /// The embedding whose name's tokens start at `position`, if any.
    public func match(_ tokens: [Int32], at position: Int) -> Entry? {
        guard let candidates = byFirstToken[tokens[position]] else { return nil }
        return candidates.first { e in
            position + e.ids.count <= tokens.count && Array(tokens[position..<(position + e.ids.count)]) == e.ids
        }
    }
}

/// Where an embedding's vectors go in a chunk: `count` ids from `offset` (an index into `PromptChunk.ids`, so
/// after the BOS token).
public struct EmbeddingPlacement: Equatable, Sendable {
    public var name: String
    public var offset: Int
    public var count: Int

    public init(name: String, offset: Int, count: Int) {
        self.name = name
        self.offset = offset
        self.count = count
    }
}
