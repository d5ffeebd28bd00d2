import Foundation
import StrictJSON

/// CLIP's BPE tokenizer, producing the ids of transformers' `CLIPTokenizer` (the tokenizers-backed class
/// transformers 5 gives for `CLIPTokenizer.from_pretrained`) as Stable Diffusion pipelines call it.
///
/// Steps, in transformers' order: special tokens whose `normalized` flag is false are split off the raw
/// text; each remaining segment is normalized (NFC, whitespace runs to one space, lowercase), special
/// tokens with `normalized` true are split off that; the rest is pre-tokenized with CLIP's pattern and
/// each piece byte-level BPE-encoded with the "</w>" end-of-word suffix.
public struct CLIPTokenizer: Sendable {
    public let bosID: Int32
    public let eosID: Int32
    public let padID: Int32
    public let specialTokens: CLIPSpecialTokens
    public let vocabularySize: Int
    private let encoder: BytePairEncoder
    /// Special tokens to split off, longest first (leftmost-longest matching), raw and normalized.
    private let rawSpecials: [(scalars: [Unicode.Scalar], id: Int32)]
    private let normalizedSpecials: [(scalars: [Unicode.Scalar], id: Int32)]

    /// The standard CLIP vocabulary (49408 tokens) for checkpoints without a tokenizer/ folder: built from
    /// the first 48894 merges of CLIP's bpe_simple_vocab_16e6 (shipped in `CLIPStandardMerges`) exactly as
    /// CLIP and openai/clip-vit-large-patch14's vocab.json do. SD1 special tokens (pads with EOS); pass
    /// other `specialTokens` for SD2 behaviour (`padding: "!"`).
    public static func standard(specialTokens: CLIPSpecialTokens = .clip) throws -> CLIPTokenizer {
        let (vocabulary, merges) = try standardTables.get()
        return try CLIPTokenizer(vocabulary: vocabulary, merges: merges, specialTokens: specialTokens,
                                 source: "CLIPStandardMerges")
    }

    /// Parsed once per process: 49k merges take a moment to split and hash.
    private static let standardTables = Result<([[UInt8]: Int32], [(String, String)]), Error> {
        let merges = try parseMerges(CLIPStandardMerges.text, source: "CLIPStandardMerges")
        var vocabulary: [[UInt8]: Int32] = [:]
        vocabulary.reserveCapacity(49408)
        var next: Int32 = 0
        // Ids are list positions; a repeated string would keep its last position, as CLIP's dict does.
        func add(_ token: String) {
            vocabulary[Array(token.utf8)] = next
            next += 1
        }
        let symbols = ByteLevelAlphabet.vocabularyOrder.map { String(Character(ByteLevelAlphabet.symbols[Int($0)])) }
        symbols.forEach { add($0) }
        symbols.forEach { add($0 + "</w>") }
        merges.forEach { add($0.0 + $0.1) }
        add("<|startoftext|>")
        add("<|endoftext|>")
        return (vocabulary, merges)
    }

    /// A model's tokenizer/ folder: vocab.json, merges.txt and (optional) tokenizer_config.json /
    /// special_tokens_map.json for the special tokens.
    public init(folder: URL) throws {
        try self.init(vocabURL: folder.appendingPathComponent("vocab.json"),
                      mergesURL: folder.appendingPathComponent("merges.txt"),
                      specialTokens: CLIPSpecialTokens(folder: folder))
    }

    public init(vocabURL: URL, mergesURL: URL, specialTokens: CLIPSpecialTokens = .clip) throws {
        let vocabulary = try Self.readVocabulary(vocabURL)
        let mergesText: String
        do { mergesText = try String(contentsOf: mergesURL, encoding: .utf8) } catch {
            throw TokenizerError.fileUnreadable(path: mergesURL.path, detail: String(describing: error))
        }
        let merges = try Self.parseMerges(mergesText, source: mergesURL.path)
        try self.init(vocabulary: vocabulary, merges: merges, specialTokens: specialTokens, source: mergesURL.path)
    }

    private init(vocabulary: [[UInt8]: Int32], merges: [(String, String)], specialTokens: CLIPSpecialTokens,
                 source: String) throws {
        guard specialTokens.modelMaxLength >= 2 else {
            throw TokenizerError.invalidMaximumLength(specialTokens.modelMaxLength)
        }
        func id(_ role: String, _ token: SpecialToken) throws -> Int32 {
            guard let found = vocabulary[Array(token.content.utf8)] else {
                throw TokenizerError.specialTokenNotInVocabulary(role: role, token: token.content)
            }
            return found
        }
        bosID = try id("bos", specialTokens.bos)
        eosID = try id("eos", specialTokens.eos)
        padID = try id("pad", specialTokens.pad)
        let unknownID = try id("unk", specialTokens.unknown)
        encoder = try BytePairEncoder(vocabulary: vocabulary, merges: merges, unknownID: unknownID, source: source)
        var raw: [(scalars: [Unicode.Scalar], id: Int32)] = []
        var normalized: [(scalars: [Unicode.Scalar], id: Int32)] = []
        var seen = Set<String>()
        for (token, tokenID) in [(specialTokens.bos, bosID), (specialTokens.eos, eosID),
                                 (specialTokens.unknown, unknownID), (specialTokens.pad, padID)]
        where !token.content.isEmpty && seen.insert(token.content).inserted {
            let entry = (scalars: Array(token.content.unicodeScalars), id: tokenID)
            if token.normalized { normalized.append(entry) } else { raw.append(entry) }
        }
        rawSpecials = raw.sorted { $0.scalars.count > $1.scalars.count }
        normalizedSpecials = normalized.sorted { $0.scalars.count > $1.scalars.count }
        self.specialTokens = specialTokens
        vocabularySize = vocabulary.count
    }

    /// The maximum sequence length including BOS and EOS (77 for SD).
    public var maxLength: Int { specialTokens.modelMaxLength }

    /// Token ids of `text` without BOS/EOS, untruncated (what A1111-style 75-token chunking splits).
    public func tokenize(_ text: String) -> [Int32] {
        var ids: [Int32] = []
        for segment in Self.splitSpecials(Array(text.unicodeScalars), rawSpecials) {
            switch segment {
            case let .special(tokenID):
                ids.append(tokenID)
            case let .text(scalars):
                var string = String.UnicodeScalarView()
                string.append(contentsOf: scalars)
                let normalizedText = CLIPNormalizer.normalize(String(string))
                for part in Self.splitSpecials(normalizedText, normalizedSpecials) {
                    switch part {
                    case let .special(tokenID):
                        ids.append(tokenID)
                    case let .text(chunk):
                        for range in CLIPPreTokenizer.split(chunk) {
                            var bytes: [UInt8] = []
                            for scalar in chunk[range] { UTF8.encode(scalar) { bytes.append($0) } }
                            ids.append(contentsOf: encoder.encode(piece: bytes))
                        }
                    }
                }
            }
        }
        return ids
    }

    /// BOS + all tokens + EOS, no truncation or padding (transformers' `padding="longest"` for one prompt).
    public func encodeUntruncated(_ text: String) -> [Int32] {
        [bosID] + tokenize(text) + [eosID]
    }

    /// What SD pipelines feed the text encoder: BOS, the first `maxLength - 2` tokens, EOS, then padding
    /// to `maxLength` (`padding="max_length", truncation=True`).
    public func encode(_ text: String, maxLength: Int? = nil) -> [Int32] {
        let length = max(maxLength ?? self.maxLength, 2)
        var ids = [bosID] + tokenize(text).prefix(length - 2) + [eosID]
        ids += [Int32](repeating: padID, count: length - ids.count)
        return ids
    }

    // MARK: - Files

    private enum Segment {
        case text([Unicode.Scalar])
        case special(Int32)
    }

    /// Leftmost-longest split of `text` around occurrences of `specials`.
    private static func splitSpecials(_ text: [Unicode.Scalar],
                                      _ specials: [(scalars: [Unicode.Scalar], id: Int32)]) -> [Segment] {
        guard !specials.isEmpty else { return [.text(text)] }
        var segments: [Segment] = []
        var start = 0
        var i = 0
        search: while i < text.count {
            for special in specials where i + special.scalars.count <= text.count {
                if text[i..<(i + special.scalars.count)].elementsEqual(special.scalars) {
                    if start < i { segments.append(.text(Array(text[start..<i]))) }
                    segments.append(.special(special.id))
                    i += special.scalars.count
                    start = i
                    continue search
                }
            }
            i += 1
        }
        if start < text.count { segments.append(.text(Array(text[start...]))) }
        return segments
    }

    private static func readVocabulary(_ url: URL) throws -> [[UInt8]: Int32] {
        let object = try TokenizerJSONFile.object(at: url, notAnObject: "vocab.json is not a JSON object")
        var vocabulary: [[UInt8]: Int32] = [:]
        vocabulary.reserveCapacity(object.count)
        var used = Set<Int32>()
        for (token, value) in object {
            guard let number = value.doubleValue, let id = Int32(exactly: number), id >= 0 else {
                throw TokenizerError.invalidVocabulary(path: url.path, detail: "token '\(token)' has id \(JSONWriter.serialize(value))")
            }
            guard used.insert(id).inserted else {
                throw TokenizerError.invalidVocabulary(path: url.path, detail: "id \(id) used twice")
            }
            vocabulary[Array(token.utf8)] = id
        }
        return vocabulary
    }

    /// merges.txt: an optional "#version" first line, then one "left right" pair per line, best first.
    /// Split on bytes, not Characters, so "\r\n" and unusual symbols cannot merge into one grapheme.
    static func parseMerges(_ text: String, source: String) throws -> [(String, String)] {
        var merges: [(String, String)] = []
        merges.reserveCapacity(49000)
        let lines = text.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        for (index, rawLine) in lines.enumerated() {
            let line = rawLine.last == UInt8(ascii: "\r") ? rawLine.dropLast() : rawLine[...]
            if line.isEmpty { continue }
            if index == 0, line.starts(with: "#version".utf8) { continue }
            let parts = line.split(separator: UInt8(ascii: " "), omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                throw TokenizerError.invalidMerge(path: source, line: index + 1,
                                                  text: String(decoding: line, as: UTF8.self))
            }
            merges.append((String(decoding: parts[0], as: UTF8.self), String(decoding: parts[1], as: UTF8.self)))
        }
        return merges
    }
}
