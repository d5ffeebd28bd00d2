import Foundation
import XCTest
@testable import Models

/// Malformed tokenizer files fail with errors that name the file and the problem.
final class TokenizerFileTests: XCTestCase {
    var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("tok-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: folder)
    }

    /// A minimal valid vocabulary: the 512 byte symbols, a few merges, the two specials.
    func writeTinyVocabulary(merges: [String] = ["c a", "ca t</w>"], extra: [String] = ["ca", "cat</w>"]) throws {
        var tokens = ByteLevelAlphabet.vocabularyOrder.map { String(Character(ByteLevelAlphabet.symbols[Int($0)])) }
        tokens += tokens.map { $0 + "</w>" }
        tokens += extra + ["<|startoftext|>", "<|endoftext|>"]
        var vocab: [String: Int] = [:]
        for (i, t) in tokens.enumerated() { vocab[t] = i }
        try JSONSerialization.data(withJSONObject: vocab).write(to: folder.appendingPathComponent("vocab.json"))
        try ("#version: 0.2\n" + merges.joined(separator: "\n") + "\n")
            .write(to: folder.appendingPathComponent("merges.txt"), atomically: true, encoding: .utf8)
    }

    func testTinyVocabularyMergesAndSpecialDefaults() throws {
        try writeTinyVocabulary()
        let tokenizer = try CLIPTokenizer(folder: folder)
        // "cat" -> c a t</w> -> ca t</w> -> cat</w>: the first extra token, id 512.
        XCTAssertEqual(tokenizer.tokenize("CAT"), [513])
        XCTAssertEqual(tokenizer.bosID, 514)
        XCTAssertEqual(tokenizer.eosID, 515)
        XCTAssertEqual(tokenizer.padID, 515)  // no config files: CLIP's defaults, pad = EOS
    }

    func testMissingVocabularyNamesFile() throws {
        XCTAssertThrowsError(try CLIPTokenizer(folder: folder)) { error in
            guard case let TokenizerError.fileUnreadable(path, _) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(path.hasSuffix("vocab.json"))
        }
    }

    func testMalformedMergeLineIsNamed() throws {
        try writeTinyVocabulary(merges: ["c a", "oops"])
        XCTAssertThrowsError(try CLIPTokenizer(folder: folder)) { error in
            guard case let TokenizerError.invalidMerge(_, line, text) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(line, 3)
            XCTAssertEqual(text, "oops")
        }
    }

    func testMergeOutsideVocabularyIsNamed() throws {
        try writeTinyVocabulary(merges: ["c a", "ca x"], extra: ["ca"])
        XCTAssertThrowsError(try CLIPTokenizer(folder: folder)) { error in
            XCTAssertEqual(error as? TokenizerError,
                           .mergeTokenNotInVocabulary(path: self.folder.appendingPathComponent("merges.txt").path,
                                                      line: 3, token: "cax"))
        }
    }

    func testVocabularyThatIsNotAnObjectIsRefused() throws {
        try Data("[1, 2]".utf8).write(to: folder.appendingPathComponent("vocab.json"))
        XCTAssertThrowsError(try CLIPTokenizer(folder: folder)) { error in
            guard case TokenizerError.invalidJSON = error else { return XCTFail("\(error)") }
        }
    }

    func testPadTokenMissingFromVocabularyIsNamed() throws {
        try writeTinyVocabulary()
        try Data(#"{"pad_token": "<pad>"}"#.utf8).write(to: folder.appendingPathComponent("tokenizer_config.json"))
        XCTAssertThrowsError(try CLIPTokenizer(folder: folder)) { error in
            XCTAssertEqual(error as? TokenizerError, .specialTokenNotInVocabulary(role: "pad", token: "<pad>"))
        }
    }
}
