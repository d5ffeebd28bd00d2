@testable import Engine
import Foundation
import Models
import Tensor
import XCTest

/// A1111 emphasis parsing and 75-token chunking.
final class PromptSyntaxTests: XCTestCase {
    private func table(_ prompt: String) -> [[String]] {
        PromptAttention.parse(prompt).map { [$0.text, String($0.weight)] }
    }

    private func assertParse(_ prompt: String, _ expected: [(String, Double)], file: StaticString = #filePath, line: UInt = #line) {
        let got = PromptAttention.parse(prompt)
        XCTAssertEqual(got.map(\.text), expected.map(\.0), prompt, file: file, line: line)
        XCTAssertEqual(got.count, expected.count, prompt, file: file, line: line)
        for (g, e) in zip(got, expected) {
            // Weights are products of the same factors in the same order as A1111's Python: exact up to 1e-12.
            XCTAssertEqual(g.weight, e.1, accuracy: 1e-12, "\(prompt): \(g.text)", file: file, line: line)
        }
    }

    /// The examples documented with stable-diffusion-webui's parse_prompt_attention.
    func testA1111DocumentedExamples() {
        assertParse("normal text", [("normal text", 1.0)])
        assertParse("an (important) word", [("an ", 1.0), ("important", 1.1), (" word", 1.0)])
        assertParse("(unbalanced", [("unbalanced", 1.1)])
        assertParse("\\(literal\\]", [("(literal]", 1.0)])
        assertParse("(unnecessary)(parens)", [("unnecessaryparens", 1.1)])
        assertParse("a (((house:1.3)) [on] a (hill:0.5), sun, (((sky))).", [
            ("a ", 1.0), ("house", 1.5730000000000004), (" ", 1.1), ("on", 1.0), (" a ", 1.1), ("hill", 0.55),
            (", sun, ", 1.1), ("sky", 1.4641000000000006), (".", 1.1),
        ])
    }

    func testSquareBracketsNumbersAndStrayCharacters() {
        assertParse("[word]", [("word", 1 / 1.1)])
        assertParse("[[word]]", [("word", 1 / 1.1 / 1.1)])
        assertParse("(word:1.3)", [("word", 1.3)])
        assertParse("( word : 0.8 )", [(" word ", 0.8)])
        assertParse("a ) b ] c", [("a ) b ] c", 1.0)])
        assertParse("time: 12:30", [("time: 12:30", 1.0)])
        assertParse("no weight:1.5)", [("no weight:1.5)", 1.0)])
        assertParse("", [("", 1.0)])
        assertParse("back\\slash", [("backslash", 1.0)])
        assertParse("\\\\(x)", [("\\", 1.0), ("x", 1.1)])
    }

    func testBreakSplitsSegments() {
        let parsed = PromptAttention.parse("a cat BREAK a dog")
        XCTAssertEqual(parsed.map(\.text), ["a cat", "BREAK", "a dog"])
        XCTAssertEqual(parsed.map(\.isBreak), [false, true, false])
        XCTAssertEqual(PromptAttention.parse("BREAKFAST").map(\.text), ["BREAKFAST"])
    }

    private func tokenizer() throws -> CLIPTokenizer {
        try CLIPTokenizer(folder: URL(fileURLWithPath: PipelineFixtures.modelFolder("sd1")).appendingPathComponent("tokenizer"))
    }

    func testShortPromptIsOneDiffusersChunk() throws {
        let tok = try tokenizer()
        let chunker = PromptChunker(tokenizer: tok)
        let chunks = chunker.chunks("a red fox")
        XCTAssertEqual(chunks.count, 1)
        XCTAssertEqual(chunks[0].ids, tok.encode("a red fox"), "a plain prompt gives exactly diffusers' 77 ids")
        XCTAssertEqual(chunks[0].weights, [Double](repeating: 1, count: 77))
    }

    func testLongPromptSplitsIntoChunksOf75() throws {
        let tok = try tokenizer()
        let word = tok.tokenize("a")
        XCTAssertEqual(word.count, 1, "fixture vocabulary: 'a' is one token")
        let prompt = Array(repeating: "a", count: 80).joined(separator: " ")
        let chunks = PromptChunker(tokenizer: tok).chunks(prompt)
        XCTAssertEqual(chunks.count, 2)
        XCTAssertEqual(chunks[0].ids, [tok.bosID] + [Int32](repeating: word[0], count: 75) + [tok.eosID])
        XCTAssertEqual(chunks[1].ids, [tok.bosID] + [Int32](repeating: word[0], count: 5) + [tok.eosID]
                       + [Int32](repeating: tok.padID, count: 70))
        XCTAssert(chunks.allSatisfy { $0.ids.count == 77 && $0.weights.count == 77 })
    }

    func testChunkBreaksAfterRecentComma() throws {
        let tok = try tokenizer()
        let fox = tok.tokenize("a")[0]
        let comma = tok.tokenize(",")[0]
        // 70 foxes, a comma, 10 foxes: the chunk fills 4 tokens after the comma, so it is cut after the comma.
        let prompt = Array(repeating: "a", count: 70).joined(separator: " ") + ", " + Array(repeating: "a", count: 10).joined(separator: " ")
        let chunks = PromptChunker(tokenizer: tok).chunks(prompt)
        XCTAssertEqual(chunks.count, 2)
        XCTAssertEqual(Array(chunks[0].ids[1...71]), [Int32](repeating: fox, count: 70) + [comma])
        XCTAssertEqual(chunks[0].ids[72], tok.eosID)
        XCTAssertEqual(Array(chunks[1].ids[1...11]), [Int32](repeating: fox, count: 10) + [tok.eosID])
    }

    func testWeightsAndBreakInChunks() throws {
        let tok = try tokenizer()
        let chunks = PromptChunker(tokenizer: tok).chunks("(a:1.5) [a] BREAK a")
        XCTAssertEqual(chunks.count, 2)
        let fox = tok.tokenize("a")[0]
        XCTAssertEqual(Array(chunks[0].ids[0...3]), [tok.bosID, fox, fox, tok.eosID])
        XCTAssertEqual(chunks[0].weights[1], 1.5, accuracy: 1e-12)
        XCTAssertEqual(chunks[0].weights[2], 1 / 1.1, accuracy: 1e-12)
        XCTAssertEqual(Array(chunks[1].ids[0...2]), [tok.bosID, fox, tok.eosID])
    }

    /// A1111's emphasis: z * w, then rescaled so the mean is the unweighted mean.
    func testWeightingRestoresMean() {
        let hidden = Tensor(shape: [1, 3, 2], values: [1, 2, 3, 4, 5, 6])
        let out = PromptEncoder.applyWeights(hidden, [1, 2, 1])
        // z*w = [1,2,6,8,5,6] mean 28/6; original mean 21/6; factor 0.75.
        let expected: [Float] = [0.75, 1.5, 4.5, 6, 3.75, 4.5]
        for (a, b) in zip(out.scalars, expected) { XCTAssertEqual(a, b, accuracy: 1e-6) }
        XCTAssertEqual(PromptEncoder.applyWeights(hidden, [1, 1, 1]).scalars, hidden.scalars, "all-1 weights leave z untouched")
    }

    /// A long prompt encodes to 77 * chunks positions, and the negative prompt is padded to the same count.
    func testLongPromptEncodingConcatenatesChunks() throws {
        let model = try PipelineParityTests.model("sd1")
        let encoder = PromptEncoder(model: model)
        let prompt = Array(repeating: "a", count: 100).joined(separator: " ")
        let pair = try encoder.encodePair(prompt: prompt, negative: "blurry", clipSkip: 1)
        XCTAssertEqual(pair.cond.shape, [1, 154, 32])
        XCTAssertEqual(pair.uncond.shape, [1, 154, 32])
        // The first chunk's encoding is the plain 77-token encoding of its ids.
        let first = try model.networks.textEncoder.encode(ids: [PromptChunker(tokenizer: model.tokenizer).chunks(prompt)[0].ids])
        XCTAssertEqual(Array(pair.cond.scalars[0..<(77 * 32)]), first.scalars)
    }
}
