/// Byte-level BPE with CLIP's end-of-word suffix: a piece's UTF-8 bytes become byte symbols, the last
/// one carrying "</w>", and the lowest-ranked adjacent pair is merged (all its non-overlapping
/// occurrences, left to right) until no ranked pair is left. Merging every occurrence of the best pair
/// at once gives the same result as the tokenizers library's priority queue, because a merge involving
/// a freshly made symbol always ranks after the merge that made it.
struct BytePairEncoder: Sendable {
    struct Merge: Sendable {
        let rank: Int32
        let result: Int32
    }

    /// Token id of each byte's symbol without / with the "</w>" suffix (nil: not in the vocabulary).
    private let byteIDs: [Int32?]
    private let finalByteIDs: [Int32?]
    private let merges: [UInt64: Merge]
    private let unknownID: Int32?

    /// `vocabulary` maps token strings (as UTF-8 bytes, so that no two distinct strings are ever
    /// conflated by Unicode equivalence) to ids; `merges` are symbol pairs in rank order.
    init(vocabulary: [[UInt8]: Int32], merges pairs: [(String, String)], unknownID: Int32?, source: String) throws {
        func id(_ token: String) -> Int32? { vocabulary[Array(token.utf8)] }
        var byteIDs: [Int32?] = []
        var finalByteIDs: [Int32?] = []
        for byte in 0..<256 {
            let symbol = String(Character(ByteLevelAlphabet.symbols[byte]))
            for (table, token) in [(0, symbol), (1, symbol + "</w>")] {
                let found = id(token)
                if found == nil, unknownID == nil { throw TokenizerError.incompleteByteAlphabet(missing: token) }
                if table == 0 { byteIDs.append(found) } else { finalByteIDs.append(found) }
            }
        }
        var table: [UInt64: Merge] = [:]
        table.reserveCapacity(pairs.count)
        for (rank, (left, right)) in pairs.enumerated() {
            let line = rank + 2  // merges.txt line number (after the "#version" header)
            guard let l = id(left) else {
                throw TokenizerError.mergeTokenNotInVocabulary(path: source, line: line, token: left)
            }
            guard let r = id(right) else {
                throw TokenizerError.mergeTokenNotInVocabulary(path: source, line: line, token: right)
            }
            guard let merged = id(left + right) else {
                throw TokenizerError.mergeTokenNotInVocabulary(path: source, line: line, token: left + right)
            }
            // A repeated pair ends up with its last rank, as in CLIP's dict and the tokenizers library's map.
            table[Self.key(l, r)] = Merge(rank: Int32(rank), result: merged)
        }
        self.byteIDs = byteIDs
        self.finalByteIDs = finalByteIDs
        self.merges = table
        self.unknownID = unknownID
    }

    @inline(__always)
    private static func key(_ left: Int32, _ right: Int32) -> UInt64 {
        UInt64(UInt32(bitPattern: left)) << 32 | UInt64(UInt32(bitPattern: right))
    }

    /// Token ids of one pre-tokenized piece. The piece is never empty.
    func encode(piece: [UInt8]) -> [Int32] {
        guard !piece.isEmpty else { return [] }
        // init guarantees a byte symbol is present whenever there is no unknown token.
        var word: [Int32] = piece.enumerated().map { index, byte in
            let found = index == piece.count - 1 ? finalByteIDs[Int(byte)] : byteIDs[Int(byte)]
            return found ?? unknownID ?? 0
        }
        var scratch: [Int32] = []
        scratch.reserveCapacity(word.count)
        while word.count > 1 {
            var best: Merge?
            var bestLeft: Int32 = 0
            var bestRight: Int32 = 0
            for i in 0..<(word.count - 1) {
                if let m = merges[Self.key(word[i], word[i + 1])], m.rank < (best?.rank ?? .max) {
                    best = m
                    bestLeft = word[i]
                    bestRight = word[i + 1]
                }
            }
            guard let merge = best else { break }
            scratch.removeAll(keepingCapacity: true)
            var i = 0
            while i < word.count {
                if i + 1 < word.count, word[i] == bestLeft, word[i + 1] == bestRight {
                    scratch.append(merge.result)
                    i += 2
                } else {
                    scratch.append(word[i])
                    i += 1
                }
            }
            swap(&word, &scratch)
        }
        return word
    }
}
