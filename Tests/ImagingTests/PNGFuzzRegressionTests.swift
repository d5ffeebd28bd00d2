import Foundation
@testable import Imaging
import XCTest

/// Inputs found by `scripts/fuzz.sh` (fuzz/targets/png.swift), kept so the fixes stay fixed.
final class PNGFuzzRegressionTests: XCTestCase {
    /// 177 bytes: a valid 1×1 PNG whose zTXt chunk declares 2,046,820,380 bytes. libpng allocated the declared
    /// length before reading (2 GB of RSS for one header read); the chunk layout is now checked first.
    static let declaresTwoGigabytes = hex("""
        89504e470d0a1a0a0000000d4948445200000001000000010802000000907753de0000001b74455874706172616d657465727300\
        61206361742c2053746570733a20323030c6f2c80000001169545874436f6d6d656e74000000b300c3a974c3a9b4002a3e7a0000\
        1c7a545874534a6674776172650000789c4bc94c4b2b2dcecccf4b0100cb2c041631594e2a0000000c49444154789c6360646206\
        00000e0007d76fe4780000000049454e44ae426082
        """)

    static func hex(_ text: String) -> [UInt8] {
        let digits = Array(text.utf8).filter { $0 != 10 && $0 != 32 }
        return stride(from: 0, to: digits.count, by: 2).map { UInt8(String(decoding: digits[$0...$0 + 1], as: UTF8.self), radix: 16)! }
    }

    func testAChunkLongerThanTheDataIsRefusedBeforeDecoding() throws {
        XCTAssertEqual(Self.declaresTwoGigabytes.count, 177)
        let expected = "the zTXt chunk at byte 101 declares 2046820380 bytes but the data has 64 left"
        assertImagingError(try VipsImage.load(data: Self.declaresTwoGigabytes)) {
            if case .decodeFailed(_, let detail) = $0 { return detail == expected }
            return false
        }
        let dir = try TempDir()
        let path = dir.file("bomb.png")
        try Data(Self.declaresTwoGigabytes).write(to: URL(fileURLWithPath: path))
        for mode in [LoadMode.decoded, .sequential] {
            assertImagingError(try VipsImage.load(path: path, mode: mode)) {
                if case .decodeFailed(let source, let detail) = $0 { return source == path && detail == expected }
                return false
            }
        }
    }

    func testChunkLengthOverPNGsLimitIsNamed() {
        var png = PNGTextChunk.signature + [0x80, 0, 0, 0] + Array("tEXt".utf8)
        png += [UInt8](repeating: 0, count: 16)
        XCTAssertEqual(PNGChunkBounds.violation(in: png),
                       "the tEXt chunk at byte 8 declares 2147483648 bytes, over PNG's limit of 2147483647")
    }

    /// Twenty zTXt chunks of 4 MB of text each: a few kilobytes on disk, 80 MB inflated. Each chunk is under libpng's
    /// per-chunk limit, but together they are over the PNG metadata bound, so the load is refused before libpng
    /// inflates any (an 816 KB file of such chunks took a resize to 3.3 GB). Metadata under the bound still loads.
    func testCompressedMetadataIsBoundedAllTogether() throws {
        let text = String(repeating: "a cat, ", count: (4 << 20) / 7)
        var image = try Pictures.rgb8(width: 2, height: 2)
        for i in 0 ..< 20 { image = try image.settingText("Comment\(i)", text) }
        let bomb = try image.encoded(format: .png)
        XCTAssertLessThan(bomb.count, 1 << 20, "compressed: \(bomb.count) bytes")
        assertImagingError(try VipsImage.load(data: bomb)) {
            if case .decodeFailed(_, let detail) = $0 { return detail.contains("decompression bomb") }
            return false
        }
        let dir = try TempDir()
        let path = dir.file("bomb.png")
        try Data(bomb).write(to: URL(fileURLWithPath: path))
        assertImagingError(try VipsImage.load(path: path)) {
            if case .decodeFailed(_, let detail) = $0 { return detail.contains("inflates to more than \(PNGChunkBounds.maxInflatedMetadata) bytes") }
            return false
        }

        var fine = try Pictures.rgb8(width: 2, height: 2)
        for i in 0 ..< 3 { fine = try fine.settingText("Comment\(i)", text) }
        let loaded = try VipsImage.load(data: try fine.encoded(format: .png))
        XCTAssertEqual(loaded.textEntries["Comment2"], text, "12 MB of metadata is under the bound")
    }

    /// The count follows each chunk's layout: an uncompressed iTXt inflates nothing, a compressed one its text.
    func testInflatedSizeReadsEachChunkLayout() {
        let stream: [UInt8] = [120, 156, 75, 76, 76, 4, 0, 2, 73, 1, 36]  // zlib("aaa")
        XCTAssertEqual(PNGChunkBounds.inflatedSize(type: "zTXt", payload: Array("k".utf8) + [0, 0] + stream, cap: 100), 3)
        XCTAssertEqual(PNGChunkBounds.inflatedSize(type: "iCCP", payload: Array("icc".utf8) + [0, 0] + stream, cap: 100), 3)
        XCTAssertEqual(PNGChunkBounds.inflatedSize(type: "iTXt", payload: Array("k".utf8) + [0, 1, 0] + Array("en".utf8) + [0, 0] + stream, cap: 100), 3)
        XCTAssertEqual(PNGChunkBounds.inflatedSize(type: "iTXt", payload: Array("k".utf8) + [0, 0, 0, 0, 0] + Array("aaa".utf8), cap: 100), 0)
        XCTAssertEqual(PNGChunkBounds.inflatedSize(type: "zTXt", payload: Array("k".utf8) + [0, 0] + stream, cap: 2), 3, "cap + 1 when over")
        XCTAssertEqual(PNGChunkBounds.inflatedSize(type: "zTXt", payload: Array("no-nul".utf8), cap: 100), 0)
        XCTAssertEqual(PNGChunkBounds.inflatedSize(type: "zTXt", payload: Array("k".utf8) + [0, 0, 1, 2, 3], cap: 100), 0, "damaged stream")
    }

    func testWellFormedPNGsStillLoad() throws {
        let png = try Pictures.rgb8(width: 5, height: 3).encoded(format: .png)
        XCTAssertNil(PNGChunkBounds.violation(in: png))
        XCTAssertEqual(try VipsImage.load(data: png).width, 5)
    }

    /// Each came back different from what was set (or not at all) before.
    func testTextEntriesComeBackExactly() throws {
        let cases: [(key: String, text: String)] = [
            ("parametersorie2a Euler a", ""),                          // empty text: libvips left it out
            ("--------------------cat, Steps: 20, Sampler: 5", "ler a"),  // libvips cut the keyword at its space
            ("parameters", ""),
            ("Comment", "x"),
        ]
        for (key, text) in cases {
            let png = try Pictures.rgb8(width: 1, height: 1).settingText(key, text).encoded(format: .png)
            XCTAssertEqual(try VipsImage.load(data: png).textEntries[key], text, key)
        }
    }

    func testTextThatPNGCannotHoldIsRefused() throws {
        let image = try Pictures.rgb8(width: 1, height: 1)
        // A NUL was silently cut off: "a cat, Steps…: 20, Samplerters" came back.
        assertImagingError(try image.settingText("parameters", "a cat, Steps\u{FFFD}: 20, Samplerters\0a cat")) {
            if case .invalidArgument(let message) = $0 { return message.contains("NUL") }
            return false
        }
        // Latin-1 keywords came back as invalid UTF-8; leading, trailing and double spaces are not PNG keywords.
        for key in ["Corieommencaf\u{E9}", " a", "a ", "a  b", "", String(repeating: "k", count: 80)] {
            assertImagingError(try image.settingText(key, "x")) {
                if case .invalidArgument = $0 { return true }
                return false
            }
        }
    }
}
