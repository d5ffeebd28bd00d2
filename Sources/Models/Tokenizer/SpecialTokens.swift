import Foundation
import StrictJSON

/// A special token as transformers registers it. `normalized` decides where it is recognised in a
/// prompt: in the raw text (false: exact, case-sensitive) or in the normalized, lowercased text (true).
public struct SpecialToken: Equatable, Sendable {
    public var content: String
    public var normalized: Bool

    public init(_ content: String, normalized: Bool) {
        self.content = content
        self.normalized = normalized
    }
}

/// BOS/EOS/unknown/padding tokens of a CLIP tokenizer and how transformers 5 resolves them from a
/// tokenizer/ folder:
/// - values come from tokenizer_config.json, overridden by special_tokens_map.json, defaulting to
///   CLIPTokenizer's own defaults ("<|startoftext|>", and "<|endoftext|>" for the others);
/// - a value written as a plain string is registered with normalized = false, a dict
///   ({"content": ..., "normalized": ...}) with its flag; when two roles share a content (EOS, unk and
///   pad are all "<|endoftext|>" in SD1) the later role in bos, eos, unk, pad order wins;
/// - an explicit "added_tokens_decoder" table in tokenizer_config.json overrides those flags.
/// This is why SD2's tokenizer (pad_token "!" as a string) splits every "!" of a prompt off as id 0.
public struct CLIPSpecialTokens: Equatable, Sendable {
    public var bos: SpecialToken
    public var eos: SpecialToken
    public var unknown: SpecialToken
    public var pad: SpecialToken
    public var modelMaxLength: Int

    /// openai/clip-vit-large-patch14 and Stable Diffusion 1.x: pads with EOS.
    public static let clip = CLIPSpecialTokens(
        bos: SpecialToken("<|startoftext|>", normalized: true), eos: SpecialToken("<|endoftext|>", normalized: false),
        unknown: SpecialToken("<|endoftext|>", normalized: false), pad: SpecialToken("<|endoftext|>", normalized: false),
        modelMaxLength: 77)

    /// Stable Diffusion 2.x (stabilityai's tokenizer/ folders): pads with "!" (id 0), which, being a
    /// special token, is also split off wherever it appears in a prompt.
    public static let sd2 = CLIPSpecialTokens(
        bos: SpecialToken("<|startoftext|>", normalized: true), eos: SpecialToken("<|endoftext|>", normalized: true),
        unknown: SpecialToken("<|endoftext|>", normalized: true), pad: SpecialToken("!", normalized: false),
        modelMaxLength: 77)

    public init(bos: SpecialToken, eos: SpecialToken, unknown: SpecialToken, pad: SpecialToken, modelMaxLength: Int) {
        self.bos = bos
        self.eos = eos
        self.unknown = unknown
        self.pad = pad
        self.modelMaxLength = modelMaxLength
    }

    /// Reads tokenizer_config.json and special_tokens_map.json of `folder` (either may be absent).
    public init(folder: URL) throws {
        let config = try Self.readObject(folder.appendingPathComponent("tokenizer_config.json"))
        let map = try Self.readObject(folder.appendingPathComponent("special_tokens_map.json"))
        let roles = ["bos_token", "eos_token", "unk_token", "pad_token"]
        let defaults = ["<|startoftext|>", "<|endoftext|>", "<|endoftext|>", "<|endoftext|>"]
        var resolved: [SpecialToken] = []
        for (role, fallback) in zip(roles, defaults) {
            let value = map?[role] ?? config?[role]
            resolved.append(Self.token(from: value) ?? SpecialToken(fallback, normalized: false))
        }
        // Later roles decide the flag of a shared content.
        var flags: [String: Bool] = [:]
        for token in resolved { flags[token.content] = token.normalized }
        if case .object(let decoder)? = config?["added_tokens_decoder"] {
            // Ordered by id, so that two ids sharing a content resolve the same way on every run.
            for (_, entry) in decoder.sorted(by: { (Int($0.key) ?? .max, $0.key) < (Int($1.key) ?? .max, $1.key) }) {
                if let content = entry["content"]?.stringValue, let normalized = entry["normalized"]?.boolValue {
                    flags[content] = normalized
                }
            }
        }
        func final(_ t: SpecialToken) -> SpecialToken { SpecialToken(t.content, normalized: flags[t.content] ?? false) }
        var maxLength = 77
        if let n = config?["model_max_length"]?.intValue, n > 2, n <= 1_000_000 { maxLength = n }
        self.init(bos: final(resolved[0]), eos: final(resolved[1]), unknown: final(resolved[2]),
                  pad: final(resolved[3]), modelMaxLength: maxLength)
    }

    private static func token(from value: JSONValue?) -> SpecialToken? {
        if let s = value?.stringValue { return SpecialToken(s, normalized: false) }
        if let content = value?["content"]?.stringValue {
            // A special AddedToken without an explicit flag is not normalized.
            return SpecialToken(content, normalized: value?["normalized"]?.boolValue ?? false)
        }
        return nil
    }

    private static func readObject(_ url: URL) throws -> [String: JSONValue]? {
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        return try TokenizerJSONFile.object(at: url, notAnObject: "not a JSON object")
    }
}
