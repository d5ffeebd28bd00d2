/// Why a text is not acceptable JSON. Offsets are byte offsets into the text so a reader can find the spot;
/// the descriptions are part of the wire protocol (clients and transcripts see them), so they stay as worded.
public enum JSONParseError: Error, Equatable, Sendable, CustomStringConvertible {
    case invalidUTF8(offset: Int)
    /// `offset` is the text's length: where more was needed.
    case unexpectedEnd(offset: Int)
    case unexpectedByte(offset: Int, found: UInt8, expected: String)
    case tooDeep(limit: Int)
    case nonFiniteNumber(offset: Int)
    case invalidNumber(offset: Int)
    case invalidEscape(offset: Int)
    case controlCharacterInString(offset: Int)
    /// `offset` is where the repeated key's string starts.
    case duplicateKey(String, offset: Int)
    case trailingData(offset: Int)

    /// Where the problem is. Nil only for the depth limit, which is a property of the whole document.
    public var offset: Int? {
        switch self {
        case .invalidUTF8(let o), .unexpectedEnd(let o), .unexpectedByte(let o, _, _), .nonFiniteNumber(let o),
             .invalidNumber(let o), .invalidEscape(let o), .controlCharacterInString(let o), .duplicateKey(_, let o),
             .trailingData(let o):
            return o
        case .tooDeep: return nil
        }
    }

    public var description: String {
        switch self {
        case .invalidUTF8(let o): return "the line is not valid UTF-8 (first bad byte at offset \(o))"
        case .unexpectedEnd: return "the JSON text ends early"
        case .unexpectedByte(let o, let b, let e):
            let shown = (0x20..<0x7f).contains(b) ? "'\(Character(Unicode.Scalar(b)))'" : String(format0x: b)
            return "unexpected \(shown) at offset \(o), expected \(e)"
        case .tooDeep(let l): return "the JSON nests deeper than \(l) levels"
        case .nonFiniteNumber(let o): return "the number at offset \(o) is not finite (too large for a double)"
        case .invalidNumber(let o): return "malformed number at offset \(o)"
        case .invalidEscape(let o): return "invalid escape sequence in string at offset \(o)"
        case .controlCharacterInString(let o): return "unescaped control character in string at offset \(o)"
        case .duplicateKey(let k, _): return "duplicate object key \"\(k)\""
        case .trailingData(let o): return "extra data after the JSON value at offset \(o)"
        }
    }
}

extension String {
    fileprivate init(format0x byte: UInt8) {
        let hex = String(byte, radix: 16, uppercase: true)
        self = "byte 0x" + (hex.count == 1 ? "0" + hex : hex)
    }
}
