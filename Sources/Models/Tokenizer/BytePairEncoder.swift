/// Byte-level BPE with CLIP's end-of-word suffix: a piece's UTF-8 bytes become byte symbols, the last
/// one carrying "</w>", and the lowest-ranked adjacent pair is merged (leftmost first on equal rank)
/// until no ranked pair is left. This equals CLIP's own loop (merge every occurrence of the best pair),
/// since a merge involving a freshly made symbol always ranks after the merge that made it.
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

    /// Token ids of one pre-tokenized piece, merging with a priority queue ordered by (rank, position)
    /// over a linked list of symbols — the tokenizers library's algorithm — so a long piece costs
    /// O(n log n) rather than a rescan per merge.
    func encode(piece: [UInt8]) -> [Int32] {
        guard !piece.isEmpty else { return [] }
        let n = piece.count
        // init guarantees a byte symbol is present whenever there is no unknown token.
        var ids: [Int32] = piece.enumerated().map { index, byte in
            let found = index == n - 1 ? finalByteIDs[Int(byte)] : byteIDs[Int(byte)]
            return found ?? unknownID ?? 0
        }
        guard n > 1 else { return ids }
        var next = Array(1...n)  // n means "none"
        var prev = Array(-1..<(n - 1))
        var alive = [Bool](repeating: true, count: n)
        var queue = MergeQueue()
        for i in 0..<(n - 1) {
            if let m = merges[Self.key(ids[i], ids[i + 1])] { queue.push(rank: m.rank, position: i, result: m.result) }
        }
        while let top = queue.pop() {
            let position = top.position
            guard alive[position], next[position] < n else { continue }
            let right = next[position]
            // Entries go stale when a neighbour merged first: the pair there must still make this token.
            guard let m = merges[Self.key(ids[position], ids[right])], m.rank == top.rank, m.result == top.result else {
                continue
            }
            ids[position] = m.result
            alive[right] = false
            next[position] = next[right]
            if next[right] < n { prev[next[right]] = position }
            if prev[position] >= 0, let left = merges[Self.key(ids[prev[position]], ids[position])] {
                queue.push(rank: left.rank, position: prev[position], result: left.result)
            }
            if next[position] < n, let after = merges[Self.key(ids[position], ids[next[position]])] {
                queue.push(rank: after.rank, position: position, result: after.result)
            }
        }
        var out: [Int32] = []
        var i = 0
        while i < n {
            out.append(ids[i])
            i = next[i]
        }
        return out
    }
}

/// A binary min-heap of candidate merges ordered by rank, then position (leftmost first).
private struct MergeQueue {
    struct Entry {
        let rank: Int32
        let position: Int
        let result: Int32
        func precedes(_ other: Entry) -> Bool {
            rank != other.rank ? rank < other.rank : position < other.position
        }
    }

    private var heap: [Entry] = []

    mutating func push(rank: Int32, position: Int, result: Int32) {
        heap.append(Entry(rank: rank, position: position, result: result))
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].precedes(heap[parent]) else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() -> Entry? {
        guard let first = heap.first else { return nil }
        let last = heap.removeLast()
        if !heap.isEmpty {
            heap[0] = last
            var parent = 0
            while true {
                let left = 2 * parent + 1
                let right = left + 1
                var best = parent
                if left < heap.count, heap[left].precedes(heap[best]) { best = left }
                if right < heap.count, heap[right].precedes(heap[best]) { best = right }
                if best == parent { break }
                heap.swapAt(parent, best)
                parent = best
            }
        }
        return first
    }
}
