/// The part of YAML that LDM / sgm inference configs (`v1-inference.yaml`, `sd_xl_base.yaml`, …) use: nested
/// block mappings and block sequences by indentation, `- key: value` items, flow sequences and mappings
/// (`[1, 2, 4]`, `{a: 1}`), plain and quoted scalars, comments. Anchors, tags, multi-line scalars and multiple
/// documents are refused with the line, rather than read wrongly: a sidecar decides how a checkpoint is built.
public indirect enum YAMLNode: Equatable, Sendable {
    case scalar(String)
    case mapping([(key: String, value: YAMLNode)])
    case sequence([YAMLNode])

    public static func == (a: YAMLNode, b: YAMLNode) -> Bool {
        switch (a, b) {
        case let (.scalar(x), .scalar(y)): return x == y
        case let (.sequence(x), .sequence(y)): return x == y
        case let (.mapping(x), .mapping(y)):
            return x.count == y.count && zip(x, y).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        default: return false
        }
    }

    /// The value at `key` of a mapping (the last one when a key repeats, as YAML loaders keep); nil otherwise.
    public subscript(key: String) -> YAMLNode? {
        guard case let .mapping(pairs) = self else { return nil }
        return pairs.last { $0.key == key }?.value
    }

    /// Follows `path` through nested mappings.
    public func at(_ path: String...) -> YAMLNode? {
        path.reduce(Optional(self)) { node, key in node?[key] }
    }

    /// The value of the first `key` met in a depth-first walk of nested mappings and sequences.
    public func first(key: String) -> YAMLNode? {
        switch self {
        case .scalar: return nil
        case let .sequence(items): return items.lazy.compactMap { $0.first(key: key) }.first
        case let .mapping(pairs):
            if let hit = pairs.first(where: { $0.key == key }) { return hit.value }
            return pairs.lazy.compactMap { $0.value.first(key: key) }.first
        }
    }

    public var string: String? {
        guard case let .scalar(s) = self else { return nil }
        return s
    }

    /// An integer scalar (`8`, `-1`); nil for anything else.
    public var int: Int? { string.flatMap { Int($0) } }

    /// A number scalar (`0.13025`, `1e-4`, `8`).
    public var double: Double? { string.flatMap { Double($0) } }

    public var items: [YAMLNode]? {
        guard case let .sequence(items) = self else { return nil }
        return items
    }

    /// Parses `text`; an empty document is an empty mapping.
    public static func parse(_ text: String) throws(YAMLSubsetError) -> YAMLNode {
        var parser = YAMLSubsetParser(text: text)
        return try parser.document()
    }
}

public struct YAMLSubsetError: Error, CustomStringConvertible, Equatable {
    public let line: Int
    public let reason: String
    public var description: String { "line \(line): \(reason)" }
}

/// Indentation-driven reader over the significant lines (comments and blank lines dropped).
private struct YAMLSubsetParser {
    struct Line {
        let number: Int
        let indent: Int
        let text: String
    }

    private var lines: [Line] = []
    private var index = 0

    init(text: String) {
        for (offset, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let content = Self.stripComment(String(raw)).replacingTrailingWhitespace()
            let indent = content.prefix { $0 == " " }.count
            let body = String(content.dropFirst(indent))
            guard !body.isEmpty, body != "---" else { continue }
            lines.append(Line(number: offset + 1, indent: indent, text: body))
        }
    }

    mutating func document() throws(YAMLSubsetError) -> YAMLNode {
        guard let first = lines.first else { return .mapping([]) }
        if let tabbed = lines.first(where: { $0.text.hasPrefix("\t") }) {
            throw YAMLSubsetError(line: tabbed.number, reason: "tabs cannot indent YAML")
        }
        let node = try block(indent: first.indent)
        if index < lines.count {
            throw YAMLSubsetError(line: lines[index].number, reason: "unexpected indentation")
        }
        return node
    }

    /// The block starting at the current line, whose lines are indented exactly `indent`.
    private mutating func block(indent: Int) throws(YAMLSubsetError) -> YAMLNode {
        let line = lines[index]
        if line.text == "-" || line.text.hasPrefix("- ") { return try sequence(indent: indent) }
        return try mapping(indent: indent)
    }

    private mutating func sequence(indent: Int) throws(YAMLSubsetError) -> YAMLNode {
        var items: [YAMLNode] = []
        while index < lines.count, lines[index].indent == indent,
              lines[index].text == "-" || lines[index].text.hasPrefix("- ") {
            let line = lines[index]
            let rest = String(line.text.dropFirst(1)).drop { $0 == " " }
            if rest.isEmpty {
                index += 1
                items.append(try nested(after: line, parentIndent: indent) ?? .scalar(""))
                continue
            }
            // `- key: value` opens a mapping whose further keys sit at the item's content column.
            let column = indent + (line.text.count - rest.count)
            if Self.splitKey(String(rest)) != nil {
                lines[index] = Line(number: line.number, indent: column, text: String(rest))
                items.append(try mapping(indent: column))
            } else {
                index += 1
                items.append(try Self.inline(String(rest), line: line.number))
            }
        }
        return .sequence(items)
    }

    private mutating func mapping(indent: Int) throws(YAMLSubsetError) -> YAMLNode {
        var pairs: [(key: String, value: YAMLNode)] = []
        while index < lines.count, lines[index].indent == indent {
            let line = lines[index]
            if line.text.hasPrefix("- ") || line.text == "-" {
                throw YAMLSubsetError(line: line.number, reason: "a sequence item where a mapping key was expected")
            }
            guard let (key, value) = Self.splitKey(line.text) else {
                throw YAMLSubsetError(line: line.number, reason: "expected `key: value`, found \(line.text.prefix(40))")
            }
            index += 1
            if value.isEmpty {
                pairs.append((key, try nested(after: line, parentIndent: indent) ?? .scalar("")))
            } else {
                pairs.append((key, try Self.inline(value, line: line.number)))
            }
        }
        if index < lines.count, lines[index].indent > indent {
            throw YAMLSubsetError(line: lines[index].number, reason: "unexpected indentation")
        }
        return .mapping(pairs)
    }

    /// The block under `line` (`key:` or `-` with nothing after it); a sequence may sit at the key's own
    /// indentation, as YAML allows for mapping values. nil when nothing is nested (a null value).
    private mutating func nested(after line: Line, parentIndent: Int) throws(YAMLSubsetError) -> YAMLNode? {
        guard index < lines.count else { return nil }
        let next = lines[index]
        if next.indent > parentIndent { return try block(indent: next.indent) }
        if next.indent == parentIndent, next.text.hasPrefix("- ") || next.text == "-",
           !(line.text.hasPrefix("- ") || line.text == "-") {
            return try sequence(indent: parentIndent)
        }
        return nil
    }

    /// `key: value` → (key, value) with `value` possibly empty; nil when the text is not a mapping entry.
    static func splitKey(_ text: String) -> (String, String)? {
        var inQuote: Character?
        var depth = 0
        let chars = Array(text)
        for (i, c) in chars.enumerated() {
            if let q = inQuote {
                if c == q { inQuote = nil }
                continue
            }
            switch c {
            case "\"", "'": if i == 0 { inQuote = c }
            case "[", "{": depth += 1
            case "]", "}": depth -= 1
            case ":" where depth == 0 && (i + 1 == chars.count || chars[i + 1] == " "):
                let key = unquote(String(chars[..<i]).trimmingSpaces())
                let value = String(chars[(i + 1)...]).trimmingSpaces()
                return key.isEmpty ? nil : (key, value)
            default: break
            }
        }
        return nil
    }

    /// A scalar or a flow collection on one line.
    static func inline(_ text: String, line: Int) throws(YAMLSubsetError) -> YAMLNode {
        if let first = text.first, "&*!|>".contains(first) {
            throw YAMLSubsetError(line: line, reason: "anchors, aliases, tags and block scalars are not supported")
        }
        var reader = FlowReader(chars: Array(text), line: line)
        let node = try reader.value()
        reader.skipSpaces()
        guard reader.atEnd else { throw YAMLSubsetError(line: line, reason: "trailing text after \(text.prefix(40))") }
        return node
    }

    static func unquote(_ s: String) -> String {
        guard s.count >= 2, let f = s.first, f == "\"" || f == "'", s.last == f else { return s }
        return String(s.dropFirst().dropLast())
    }

    /// Drops a `#` comment that starts a line or follows a space, outside quotes.
    static func stripComment(_ line: String) -> String {
        var inQuote: Character?
        var previous: Character = " "
        for (offset, c) in line.enumerated() {
            if let q = inQuote {
                if c == q { inQuote = nil }
            } else if c == "\"" || c == "'" {
                inQuote = c
            } else if c == "#", previous == " " || previous == "\t" {
                return String(line.prefix(offset))
            }
            previous = c
        }
        return line
    }
}

/// Flow values: `[a, b]`, `{k: v}`, quoted and plain scalars.
private struct FlowReader {
    let chars: [Character]
    let line: Int
    var position = 0

    var atEnd: Bool { position >= chars.count }

    init(chars: [Character], line: Int) {
        self.chars = chars
        self.line = line
    }

    mutating func skipSpaces() {
        while position < chars.count, chars[position] == " " { position += 1 }
    }

    mutating func value() throws(YAMLSubsetError) -> YAMLNode {
        skipSpaces()
        guard position < chars.count else { return .scalar("") }
        switch chars[position] {
        case "[": return try sequence()
        case "{": return try mapping()
        case "\"", "'": return .scalar(try quoted())
        default: return .scalar(plain(stops: []))
        }
    }

    private mutating func sequence() throws(YAMLSubsetError) -> YAMLNode {
        position += 1
        var items: [YAMLNode] = []
        while true {
            skipSpaces()
            guard position < chars.count else { throw YAMLSubsetError(line: line, reason: "unclosed [") }
            if chars[position] == "]" { position += 1; return .sequence(items) }
            items.append(try element(stops: [",", "]"]))
            skipSpaces()
            if position < chars.count, chars[position] == "," { position += 1 }
        }
    }

    private mutating func mapping() throws(YAMLSubsetError) -> YAMLNode {
        position += 1
        var pairs: [(key: String, value: YAMLNode)] = []
        while true {
            skipSpaces()
            guard position < chars.count else { throw YAMLSubsetError(line: line, reason: "unclosed {") }
            if chars[position] == "}" { position += 1; return .mapping(pairs) }
            let key: String
            if chars[position] == "\"" || chars[position] == "'" { key = try quoted() } else { key = plain(stops: [":"]) }
            skipSpaces()
            guard position < chars.count, chars[position] == ":" else {
                throw YAMLSubsetError(line: line, reason: "expected `:` after \(key) in a flow mapping")
            }
            position += 1
            pairs.append((key, try element(stops: [",", "}"])))
            skipSpaces()
            if position < chars.count, chars[position] == "," { position += 1 }
        }
    }

    private mutating func element(stops: Set<Character>) throws(YAMLSubsetError) -> YAMLNode {
        skipSpaces()
        guard position < chars.count else { throw YAMLSubsetError(line: line, reason: "unclosed flow collection") }
        switch chars[position] {
        case "[", "{", "\"", "'": return try value()
        default: return .scalar(plain(stops: stops))
        }
    }

    private mutating func quoted() throws(YAMLSubsetError) -> String {
        let quote = chars[position]
        position += 1
        var out = ""
        while position < chars.count {
            let c = chars[position]
            position += 1
            if c == quote {
                // YAML's '' inside single quotes is one quote.
                if quote == "'", position < chars.count, chars[position] == "'" { out.append("'"); position += 1; continue }
                return out
            }
            if quote == "\"", c == "\\", position < chars.count {
                let escaped = chars[position]
                position += 1
                switch escaped {
                case "n": out.append("\n")
                case "t": out.append("\t")
                default: out.append(escaped)
                }
                continue
            }
            out.append(c)
        }
        throw YAMLSubsetError(line: line, reason: "unclosed quote")
    }

    private mutating func plain(stops: Set<Character>) -> String {
        var out = ""
        while position < chars.count, !stops.contains(chars[position]) {
            out.append(chars[position])
            position += 1
        }
        return out.trimmingSpaces()
    }
}

private extension String {
    func trimmingSpaces() -> String {
        var s = Substring(self)
        while s.first == " " || s.first == "\t" { s = s.dropFirst() }
        while s.last == " " || s.last == "\t" { s = s.dropLast() }
        return String(s)
    }

    func replacingTrailingWhitespace() -> String {
        var s = Substring(self)
        while let last = s.last, last == " " || last == "\t" || last == "\r" { s = s.dropLast() }
        return String(s)
    }
}
