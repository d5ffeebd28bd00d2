/// A1111's prompt emphasis syntax, parsed into text segments with attention weights.
///
/// Syntax (as stable-diffusion-webui's `parse_prompt_attention`):
/// - `(text)` multiplies the weight of `text` by 1.1, `[text]` by 1/1.1; brackets nest and multiply.
/// - `(text:1.3)` multiplies by the given number instead of 1.1.
/// - `\(` `\)` `\[` `\]` `\\` are the literal characters; a lone `\` is dropped.
/// - Brackets left open at the end apply to everything after them; a stray `)` or `]` is literal text.
/// - `BREAK` (uppercase, a whole word) ends the current 75-token chunk (see `PromptChunker`).
/// - Adjacent segments with equal weights are merged; an empty prompt is one empty segment of weight 1.
public struct WeightedSegment: Equatable, Sendable {
    public var text: String
    public var weight: Double
    /// True for a `BREAK` marker (text "BREAK", no tokens of its own).
    public var isBreak: Bool

    public init(_ text: String, _ weight: Double, isBreak: Bool = false) {
        self.text = text
        self.weight = weight
        self.isBreak = isBreak
    }
}

public enum PromptAttention {
    public static func parse(_ prompt: String) -> [WeightedSegment] {
        var result: [WeightedSegment] = []
        var roundOpen: [Int] = []
        var squareOpen: [Int] = []
        func multiply(from start: Int, by factor: Double) {
            for i in start..<result.count { result[i].weight *= factor }
        }
        for token in tokens(of: Array(prompt)) {
            switch token {
            case let .escaped(text):
                result.append(WeightedSegment(text, 1))
            case .openRound:
                roundOpen.append(result.count)
            case .openSquare:
                squareOpen.append(result.count)
            case let .closeWithWeight(weight, raw):
                if let start = roundOpen.popLast() {
                    multiply(from: start, by: weight)
                } else {
                    appendText(raw, to: &result)
                }
            case .closeRound:
                if let start = roundOpen.popLast() { multiply(from: start, by: 1.1) } else { appendText(")", to: &result) }
            case .closeSquare:
                if let start = squareOpen.popLast() { multiply(from: start, by: 1 / 1.1) } else { appendText("]", to: &result) }
            case let .text(text):
                appendText(text, to: &result)
            }
        }
        for start in roundOpen { multiply(from: start, by: 1.1) }
        for start in squareOpen { multiply(from: start, by: 1 / 1.1) }
        if result.isEmpty { return [WeightedSegment("", 1)] }
        var merged: [WeightedSegment] = []
        for segment in result {
            if let last = merged.last, !last.isBreak, !segment.isBreak, last.weight == segment.weight {
                merged[merged.count - 1].text += segment.text
            } else {
                merged.append(segment)
            }
        }
        return merged
    }

    /// Plain text, split at `BREAK` words (whitespace around a BREAK is dropped, as A1111's `\s*\bBREAK\b\s*`).
    private static func appendText(_ text: String, to result: inout [WeightedSegment]) {
        let parts = splitAtBreak(Array(text))
        for (i, part) in parts.enumerated() {
            if i > 0 { result.append(WeightedSegment("BREAK", -1, isBreak: true)) }
            result.append(WeightedSegment(part, 1))
        }
    }

    static func splitAtBreak(_ chars: [Character]) -> [String] {
        var parts: [String] = []
        var current: [Character] = []
        var i = 0
        func isWordChar(_ c: Character) -> Bool { c.isLetter || c.isNumber || c == "_" }
        while i < chars.count {
            let matchesWord = i + 5 <= chars.count && String(chars[i..<(i + 5)]) == "BREAK"
                && (i == 0 || !isWordChar(chars[i - 1])) && (i + 5 == chars.count || !isWordChar(chars[i + 5]))
            if matchesWord {
                while let last = current.last, last.isWhitespace { current.removeLast() }
                parts.append(String(current))
                current = []
                i += 5
                while i < chars.count, chars[i].isWhitespace { i += 1 }
            } else {
                current.append(chars[i])
                i += 1
            }
        }
        parts.append(String(current))
        return parts
    }

    enum Token: Equatable {
        case escaped(String), openRound, openSquare, closeRound, closeSquare
        case closeWithWeight(Double, raw: String)
        case text(String)
    }

    /// The lexer of A1111's `re_attention`: escapes, brackets, `:number)` and runs of other characters
    /// (a `:` not followed by a number and `)` is text of its own).
    static func tokens(of chars: [Character]) -> [Token] {
        var out: [Token] = []
        var i = 0
        let special: Set<Character> = ["\\", "(", ")", "[", "]", ":"]
        while i < chars.count {
            let c = chars[i]
            switch c {
            case "\\":
                if i + 1 < chars.count, ["(", ")", "[", "]", "\\"].contains(chars[i + 1]) {
                    out.append(.escaped(String(chars[i + 1])))
                    i += 2
                } else {
                    out.append(.escaped(""))
                    i += 1
                }
            case "(": out.append(.openRound); i += 1
            case "[": out.append(.openSquare); i += 1
            case ")": out.append(.closeRound); i += 1
            case "]": out.append(.closeSquare); i += 1
            case ":":
                if let (weight, end) = weightClose(chars, from: i) {
                    out.append(.closeWithWeight(weight, raw: String(chars[i..<end])))
                    i = end
                } else {
                    out.append(.text(":"))
                    i += 1
                }
            default:
                var j = i
                while j < chars.count, !special.contains(chars[j]) { j += 1 }
                out.append(.text(String(chars[i..<j])))
                i = j
            }
        }
        return out
    }

    /// `:\s*([+-]?[.\d]+)\s*\)` at `start`: the weight and the index after `)`. A number Python's
    /// `float()` would reject (e.g. "1.2.3") is treated as no match, so the text stays literal.
    private static func weightClose(_ chars: [Character], from start: Int) -> (Double, Int)? {
        var i = start + 1
        while i < chars.count, chars[i].isWhitespace { i += 1 }
        var number = ""
        if i < chars.count, chars[i] == "+" || chars[i] == "-" { number.append(chars[i]); i += 1 }
        let digitsStart = i
        while i < chars.count, chars[i] == "." || ("0"..."9").contains(chars[i]) { number.append(chars[i]); i += 1 }
        guard i > digitsStart else { return nil }
        while i < chars.count, chars[i].isWhitespace { i += 1 }
        guard i < chars.count, chars[i] == ")", let value = Double(number) else { return nil }
        return (value, i + 1)
    }
}
