import Foundation

/// A1111's extra-network tags in a prompt, `<kind:arg1:arg2...>` (`extra_networks.parse_prompt`: the pattern
/// `<(\w+):([^>]+)>`), removed from the text before anything else reads it. One parser for every kind: this
/// project handles `hypernet` (and `lora` where LoRAs are supported); other kinds are removed and reported.
///
/// Arguments are split at `:` as A1111's `ExtraNetworkParams`: `key=value` items are named, the others positional
/// (the first positional is the network's name): `<lora:name:0.8>`, `<lora:name:te=0.5:unet=1>`,
/// `<hypernet:name:0.6>`.
public struct PromptAdapterTags: Sendable, Equatable {
    public struct Tag: Sendable, Equatable {
        public let kind: String
        /// The tag as written, `<` and `>` included.
        public let text: String
        /// Items without `=`, in order; `positional[0]` is the name (always present).
        public let positional: [String]
        public let named: [String: String]

        public var name: String { positional[0] }

        /// Positional item `index` as a number: nil when absent, `.failure` with the text when not a number.
        public func number(at index: Int) -> Result<Double, TagArgumentError>? {
            guard index < positional.count else { return nil }
            return Self.parse(positional[index], tag: text)
        }

        /// Named item `key` as a number (`te=0.5`).
        public func number(named key: String) -> Result<Double, TagArgumentError>? {
            named[key].map { Self.parse($0, tag: text) }
        }

        static func parse(_ item: String, tag: String) -> Result<Double, TagArgumentError> {
            let trimmed = item.trimmingCharacters(in: .whitespaces)
            guard let value = Double(trimmed), value.isFinite else { return .failure(TagArgumentError(tag: tag, item: item)) }
            return .success(value)
        }
    }

    /// A tag argument that should be a number but is not.
    public struct TagArgumentError: Error, Equatable, CustomStringConvertible {
        public let tag: String
        public let item: String
        public init(tag: String, item: String) {
            self.tag = tag
            self.item = item
        }
        public var description: String { "'\(item)' in \(tag) is not a number" }
    }

    /// The prompt without its tags (each replaced by nothing, as A1111).
    public let text: String
    public let tags: [Tag]

    public init(parsing prompt: String) {
        var text = ""
        var tags: [Tag] = []
        let chars = Array(prompt)
        var i = 0
        while i < chars.count {
            if chars[i] == "<", let (tag, end) = Self.tag(chars, at: i) {
                tags.append(tag)
                i = end
            } else {
                text.append(chars[i])
                i += 1
            }
        }
        self.text = text
        self.tags = tags
    }

    public func tags(kind: String) -> [Tag] { tags.filter { $0.kind == kind } }

    /// `<(\w+):([^>]+)>` at `start`: the tag and the index after `>`.
    static func tag(_ chars: [Character], at start: Int) -> (Tag, Int)? {
        var i = start + 1
        var kind = ""
        while i < chars.count, chars[i].isLetter || chars[i].isNumber || chars[i] == "_" { kind.append(chars[i]); i += 1 }
        guard !kind.isEmpty, i < chars.count, chars[i] == ":" else { return nil }
        i += 1
        var body = ""
        while i < chars.count, chars[i] != ">" { body.append(chars[i]); i += 1 }
        guard !body.isEmpty, i < chars.count else { return nil }
        var positional: [String] = []
        var named: [String: String] = [:]
        for item in body.split(separator: ":", omittingEmptySubsequences: false).map(String.init) {
            // Python's item.split('=', 2) with exactly two parts is named; "a=b=c" (three parts) stays positional.
            let parts = item.split(separator: "=", omittingEmptySubsequences: false)
            if parts.count == 2 { named[String(parts[0])] = String(parts[1]) } else { positional.append(item) }
        }
        guard !positional.isEmpty else { return nil }
        return (Tag(kind: kind, text: String(chars[start...i]), positional: positional, named: named), i + 1)
    }
}
