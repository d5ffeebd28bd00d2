/// The one strict RFC 8259 parser (the wire, safetensors headers, model configs, tokenizer files). It is written
/// here rather than using Foundation so that the depth limit applies before any recursion happens, integer
/// literals stay exact (`.integer`, so 64-bit sizes and offsets survive), duplicate keys are refused, numbers
/// that overflow to infinity are rejected instead of silently becoming `inf`, and every error but the depth
/// limit names a byte offset.
public struct JSONParser {
    public static let defaultMaxDepth = 64

    public static func parse(_ bytes: [UInt8], maxDepth: Int = defaultMaxDepth) throws -> JSONValue {
        try bytes.withUnsafeBufferPointer { try parse($0, maxDepth: maxDepth) }
    }

    public static func parse(_ text: String, maxDepth: Int = defaultMaxDepth) throws -> JSONValue {
        try parse(Array(text.utf8), maxDepth: maxDepth)
    }

    /// Parses borrowed bytes (a memory-mapped file) without copying them first.
    public static func parse(_ bytes: UnsafeRawBufferPointer, maxDepth: Int = defaultMaxDepth) throws -> JSONValue {
        try parse(bytes.assumingMemoryBound(to: UInt8.self), maxDepth: maxDepth)
    }

    public static func parse(_ buffer: UnsafeBufferPointer<UInt8>, maxDepth: Int = defaultMaxDepth) throws -> JSONValue {
        if let bad = firstInvalidUTF8Offset(buffer) { throw JSONParseError.invalidUTF8(offset: bad) }
        var parser = Cursor(bytes: buffer, maxDepth: maxDepth)
        parser.skipWhitespace()
        let value = try parser.parseValue(depth: 0)
        parser.skipWhitespace()
        if parser.index != buffer.count { throw JSONParseError.trailingData(offset: parser.index) }
        return value
    }

    /// Validates UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF); returns the first bad offset.
    static func firstInvalidUTF8Offset(_ b: UnsafeBufferPointer<UInt8>) -> Int? {
        var i = 0
        let n = b.count
        while i < n {
            let c = b[i]
            if c < 0x80 { i += 1; continue }
            var need = 0
            var lower: UInt8 = 0x80
            var upper: UInt8 = 0xBF
            switch c {
            case 0xC2...0xDF: need = 1
            case 0xE0: need = 2; lower = 0xA0
            case 0xE1...0xEC, 0xEE...0xEF: need = 2
            case 0xED: need = 2; upper = 0x9F
            case 0xF0: need = 3; lower = 0x90
            case 0xF1...0xF3: need = 3
            case 0xF4: need = 3; upper = 0x8F
            default: return i
            }
            if i + need >= n { return i }  // truncated sequence at the end of the line
            let first = b[i + 1]
            if first < lower || first > upper { return i }
            var k = 2
            while k <= need {
                let cont = b[i + k]
                if cont < 0x80 || cont > 0xBF { return i }
                k += 1
            }
            i += need + 1
        }
        return nil
    }

    struct Cursor {
        let bytes: UnsafeBufferPointer<UInt8>
        let maxDepth: Int
        var index = 0

        init(bytes: UnsafeBufferPointer<UInt8>, maxDepth: Int) {
            self.bytes = bytes
            self.maxDepth = maxDepth
        }

        mutating func skipWhitespace() {
            while index < bytes.count {
                switch bytes[index] {
                case 0x20, 0x09, 0x0A, 0x0D: index += 1
                default: return
                }
            }
        }

        func peek() throws -> UInt8 {
            guard index < bytes.count else { throw JSONParseError.unexpectedEnd(offset: bytes.count) }
            return bytes[index]
        }

        mutating func expect(_ literal: String, value: JSONValue) throws -> JSONValue {
            for byte in literal.utf8 {
                let b = try peek()
                guard b == byte else { throw JSONParseError.unexpectedByte(offset: index, found: b, expected: "'\(literal)'") }
                index += 1
            }
            return value
        }

        mutating func parseValue(depth: Int) throws -> JSONValue {
            let b = try peek()
            switch b {
            case UInt8(ascii: "{"): return try parseObject(depth: depth + 1)
            case UInt8(ascii: "["): return try parseArray(depth: depth + 1)
            case UInt8(ascii: "\""): return .string(try parseString())
            case UInt8(ascii: "t"): return try expect("true", value: .bool(true))
            case UInt8(ascii: "f"): return try expect("false", value: .bool(false))
            case UInt8(ascii: "n"): return try expect("null", value: .null)
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
            default: throw JSONParseError.unexpectedByte(offset: index, found: b, expected: "a JSON value")
            }
        }

        mutating func parseObject(depth: Int) throws -> JSONValue {
            if depth > maxDepth { throw JSONParseError.tooDeep(limit: maxDepth) }
            index += 1
            var result: [String: JSONValue] = [:]
            skipWhitespace()
            if try peek() == UInt8(ascii: "}") { index += 1; return .object(result) }
            while true {
                skipWhitespace()
                let q = try peek()
                guard q == UInt8(ascii: "\"") else { throw JSONParseError.unexpectedByte(offset: index, found: q, expected: "a string key") }
                let keyOffset = index
                let key = try parseString()
                skipWhitespace()
                let colon = try peek()
                guard colon == UInt8(ascii: ":") else { throw JSONParseError.unexpectedByte(offset: index, found: colon, expected: "':'") }
                index += 1
                skipWhitespace()
                let value = try parseValue(depth: depth)
                if result.updateValue(value, forKey: key) != nil { throw JSONParseError.duplicateKey(key, offset: keyOffset) }
                skipWhitespace()
                let sep = try peek()
                index += 1
                if sep == UInt8(ascii: ",") { continue }
                if sep == UInt8(ascii: "}") { return .object(result) }
                throw JSONParseError.unexpectedByte(offset: index - 1, found: sep, expected: "',' or '}'")
            }
        }

        mutating func parseArray(depth: Int) throws -> JSONValue {
            if depth > maxDepth { throw JSONParseError.tooDeep(limit: maxDepth) }
            index += 1
            var result: [JSONValue] = []
            skipWhitespace()
            if try peek() == UInt8(ascii: "]") { index += 1; return .array(result) }
            while true {
                skipWhitespace()
                result.append(try parseValue(depth: depth))
                skipWhitespace()
                let sep = try peek()
                index += 1
                if sep == UInt8(ascii: ",") { continue }
                if sep == UInt8(ascii: "]") { return .array(result) }
                throw JSONParseError.unexpectedByte(offset: index - 1, found: sep, expected: "',' or ']'")
            }
        }

        mutating func parseHex4() throws -> UInt32 {
            guard index + 4 <= bytes.count else { throw JSONParseError.unexpectedEnd(offset: bytes.count) }
            var v: UInt32 = 0
            for _ in 0..<4 {
                let c = bytes[index]
                let d: UInt32
                switch c {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): d = UInt32(c - UInt8(ascii: "0"))
                case UInt8(ascii: "a")...UInt8(ascii: "f"): d = UInt32(c - UInt8(ascii: "a") + 10)
                case UInt8(ascii: "A")...UInt8(ascii: "F"): d = UInt32(c - UInt8(ascii: "A") + 10)
                default: throw JSONParseError.invalidEscape(offset: index)
                }
                v = v << 4 | d
                index += 1
            }
            return v
        }

        mutating func parseString() throws -> String {
            index += 1  // opening quote
            var out: [UInt8] = []
            while true {
                guard index < bytes.count else { throw JSONParseError.unexpectedEnd(offset: bytes.count) }
                let c = bytes[index]
                if c == UInt8(ascii: "\"") { index += 1; break }
                if c < 0x20 { throw JSONParseError.controlCharacterInString(offset: index) }
                if c != UInt8(ascii: "\\") { out.append(c); index += 1; continue }
                let escapeStart = index
                index += 1
                guard index < bytes.count else { throw JSONParseError.unexpectedEnd(offset: bytes.count) }
                let e = bytes[index]
                index += 1
                switch e {
                case UInt8(ascii: "\""): out.append(0x22)
                case UInt8(ascii: "\\"): out.append(0x5C)
                case UInt8(ascii: "/"): out.append(0x2F)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try parseHex4()
                    if (0xD800..<0xDC00).contains(scalar) {
                        // A high surrogate must be followed by an escaped low surrogate.
                        guard index + 6 <= bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u")
                        else { throw JSONParseError.invalidEscape(offset: escapeStart) }
                        index += 2
                        let low = try parseHex4()
                        guard (0xDC00..<0xE000).contains(low) else { throw JSONParseError.invalidEscape(offset: escapeStart) }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else if (0xDC00..<0xE000).contains(scalar) {
                        throw JSONParseError.invalidEscape(offset: escapeStart)
                    }
                    guard let u = Unicode.Scalar(scalar) else { throw JSONParseError.invalidEscape(offset: escapeStart) }
                    out.append(contentsOf: Array(String(Character(u)).utf8))
                default:
                    throw JSONParseError.invalidEscape(offset: escapeStart)
                }
            }
            // Input was validated as UTF-8 and escapes produce valid scalars, so decoding cannot fail.
            return String(decoding: out, as: UTF8.self)
        }

        mutating func parseNumber() throws -> JSONValue {
            let start = index
            var isInteger = true
            if bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard index < bytes.count else { throw JSONParseError.invalidNumber(offset: start) }
            if bytes[index] == UInt8(ascii: "0") {
                index += 1
            } else if (UInt8(ascii: "1")...UInt8(ascii: "9")).contains(bytes[index]) {
                while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
            } else {
                throw JSONParseError.invalidNumber(offset: start)
            }
            if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
                isInteger = false
                index += 1
                let digitsStart = index
                while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
                if index == digitsStart { throw JSONParseError.invalidNumber(offset: start) }
            }
            if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
                isInteger = false
                index += 1
                if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
                let digitsStart = index
                while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
                if index == digitsStart { throw JSONParseError.invalidNumber(offset: start) }
            }
            let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
            if isInteger, let i = Int64(text) { return .integer(i) }
            guard let d = Double(text) else { throw JSONParseError.invalidNumber(offset: start) }
            guard d.isFinite else { throw JSONParseError.nonFiniteNumber(offset: start) }
            return .double(d)
        }
    }
}
