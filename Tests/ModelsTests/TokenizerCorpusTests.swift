import Foundation
import XCTest
@testable import Models

/// Token ids from transformers' CLIPTokenizer (recorded by scripts/fixtures/make_sd_fixtures.py) must be
/// reproduced exactly: there is no tolerance on ids.
final class TokenizerCorpusTests: XCTestCase {
    struct Record: Decodable {
        let prompt: String
        let ids: [Int32]
        let untruncated: [Int32]
    }

    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures")

    func load(_ name: String) throws -> Data {
        try Data(contentsOf: Self.fixtures.appendingPathComponent("tokenizer").appendingPathComponent(name))
    }

    func check(_ tokenizer: CLIPTokenizer, _ records: [Record], label: String,
               file: StaticString = #filePath, line: UInt = #line) {
        var failures = 0
        for record in records {
            let untruncated = tokenizer.encodeUntruncated(record.prompt)
            let ids = tokenizer.encode(record.prompt)
            if untruncated != record.untruncated || ids != record.ids {
                failures += 1
                if failures <= 10 {
                    XCTFail("\(label): \(record.prompt.debugDescription)\n  expected \(record.untruncated)\n  got      \(untruncated)",
                            file: file, line: line)
                }
            }
        }
        XCTAssertEqual(failures, 0, "\(label): \(failures) of \(records.count) prompts differ", file: file, line: line)
    }

    func testStandardVocabularyMatchesTransformersOnCorpus() throws {
        let records = try JSONDecoder().decode([Record].self, from: load("clip_corpus.json"))
        XCTAssertGreaterThanOrEqual(records.count, 200)
        let tokenizer = try CLIPTokenizer.standard()
        XCTAssertEqual(tokenizer.vocabularySize, 49408)
        check(tokenizer, records, label: "standard")
    }

    struct FuzzRecord: Decodable {
        let prompt: String
        let untruncated: [Int32]
    }

    func testStandardVocabularyMatchesTransformersOnRandomUnicode() throws {
        let records = try JSONDecoder().decode([FuzzRecord].self, from: load("clip_fuzz.json"))
        XCTAssertEqual(records.count, 400)
        let tokenizer = try CLIPTokenizer.standard()
        let differing = records.filter { tokenizer.encodeUntruncated($0.prompt) != $0.untruncated }
        for record in differing.prefix(5) {
            XCTFail("\(record.prompt.unicodeScalars.map { String($0.value, radix: 16) })\n  expected \(record.untruncated)"
                    + "\n  got      \(tokenizer.encodeUntruncated(record.prompt))")
        }
        XCTAssertEqual(differing.count, 0, "\(differing.count) of \(records.count) random prompts differ")
    }

    func testWellKnownIDs() throws {
        let tokenizer = try CLIPTokenizer.standard()
        XCTAssertEqual(tokenizer.encodeUntruncated("a photo of a cat"), [49406, 320, 1125, 539, 320, 2368, 49407])
        XCTAssertEqual(tokenizer.bosID, 49406)
        XCTAssertEqual(tokenizer.eosID, 49407)
        XCTAssertEqual(tokenizer.padID, 49407)
        let padded = tokenizer.encode("a photo of a cat")
        XCTAssertEqual(padded.count, 77)
        XCTAssertEqual(Array(padded[7...]), [Int32](repeating: 49407, count: 70))
    }

    func testFamilyTokenizerFoldersMatchTransformers() throws {
        let corpus = try JSONDecoder().decode([String: [Record]].self, from: load("tiny_corpus.json"))
        for family in ["sd1", "sd2v"] {
            let folder = Self.fixtures.appendingPathComponent("sd").appendingPathComponent(family)
                .appendingPathComponent("diffusers").appendingPathComponent("tokenizer")
            let tokenizer = try CLIPTokenizer(folder: folder)
            let records = try XCTUnwrap(corpus[family])
            XCTAssertGreaterThanOrEqual(records.count, 200)
            check(tokenizer, records, label: family)
        }
    }

    func testFolderSpecialTokensEqualThePresets() throws {
        // The presets single-file checkpoints use must behave like the families' tokenizer folders.
        let sd = Self.fixtures.appendingPathComponent("sd")
        XCTAssertEqual(try CLIPSpecialTokens(folder: sd.appendingPathComponent("sd1/diffusers/tokenizer")), .clip)
        XCTAssertEqual(try CLIPSpecialTokens(folder: sd.appendingPathComponent("sd2v/diffusers/tokenizer")), .sd2)
    }

    func testSD2StandardTokenizerSplitsExclamationMarks() throws {
        let sd2 = try CLIPTokenizer.standard(specialTokens: .sd2)
        let sd1 = try CLIPTokenizer.standard()
        XCTAssertEqual(sd2.padID, 0)
        // "!" is a special token for SD2: each one is id 0; SD1 BPE-encodes the run ("!!!" is 995 there).
        XCTAssertEqual(sd2.tokenize("wow!!!"), [sd1.tokenize("wow")[0], 0, 0, 0])
        XCTAssertEqual(sd1.tokenize("!!!"), [995])
    }

    func testSD2FolderPadsWithExclamationMark() throws {
        let folder = Self.fixtures.appendingPathComponent("sd/sd2v/diffusers/tokenizer")
        let tokenizer = try CLIPTokenizer(folder: folder)
        XCTAssertEqual(tokenizer.specialTokens.pad, SpecialToken("!", normalized: false))
        XCTAssertEqual(tokenizer.padID, 0)
        XCTAssertEqual(tokenizer.encode("a").last, 0)
    }

    func testLongPromptTruncatesTo75TokensPlusBOSAndEOS() throws {
        let tokenizer = try CLIPTokenizer.standard()
        let prompt = Array(repeating: "cat", count: 100).joined(separator: " ")
        XCTAssertEqual(tokenizer.tokenize(prompt), [Int32](repeating: 2368, count: 100))
        let ids = tokenizer.encode(prompt)
        XCTAssertEqual(ids.count, 77)
        XCTAssertEqual(ids.first, 49406)
        XCTAssertEqual(ids.last, 49407)
        XCTAssertEqual(Array(ids[1..<76]), [Int32](repeating: 2368, count: 75))
    }
}
