import Foundation
@testable import Imaging
import XCTest

/// Decompression bombs in PNG text: compressed text chunks whose sum inflates past
/// `PNGChunkBounds.maxInflatedMetadata` are refused before libvips (libpng) inflates any of them, whichever
/// way the image arrives; text under the limit still loads exactly. The bombs are built here, not committed.
final class PNGTextBombTests: XCTestCase {
    /// Three zTXt/iTXt chunks of 25 MB each (under libpng's 50 MiB per chunk, 75 MB together) in a 0.5 MB file.
    func testTextChunksInflatingPastTheLimitAreRefused() throws {
        let stream = Self.zlibRepeating(UInt8(ascii: "a"), matches: 97_000)  // 25,026,001 bytes inflated
        XCTAssertLessThan(stream.count, 160_000)
        let chunks = [
            PNGTextChunk.chunk(type: "zTXt", data: Array("parameters".utf8) + [0, 0] + stream),
            PNGTextChunk.chunk(type: "iTXt", data: Array("XML:com.adobe.xmp".utf8) + [0, 1, 0] + Array("en".utf8) + [0, 0] + stream),
            PNGTextChunk.chunk(type: "zTXt", data: Array("Comment".utf8) + [0, 0] + stream),
        ]
        let png = try PNGTextChunk.inserting(chunks, into: try Pictures.rgb8(width: 2, height: 2).encoded(format: .png))
        let violation = try XCTUnwrap(PNGChunkBounds.violation(in: png))
        XCTAssertTrue(violation.hasPrefix("its compressed metadata inflates to more than 67108864 bytes (at the zTXt chunk at byte "), violation)
        XCTAssertTrue(violation.hasSuffix("): a decompression bomb"), violation)

        assertImagingError(try VipsImage.load(data: png)) {
            if case .decodeFailed(_, let detail) = $0 { return detail == violation }
            return false
        }
        let dir = try TempDir()
        let path = dir.file("bomb.png")
        try Data(png).write(to: URL(fileURLWithPath: path))
        for mode in [LoadMode.decoded, .sequential] {
            assertImagingError(try VipsImage.load(path: path, mode: mode)) {
                if case .decodeFailed(let source, let detail) = $0 { return source == path && detail == violation }
                return false
            }
        }
    }

    /// Two of the three chunks (50 MB) fit; so do a 1 MB text, which comes back whole, and uncompressed iTXt.
    func testTextUnderTheLimitStillLoads() throws {
        let big = Self.zlibRepeating(UInt8(ascii: "a"), matches: 97_000)
        let twoChunks = try PNGTextChunk.inserting([
            PNGTextChunk.chunk(type: "zTXt", data: Array("a".utf8) + [0, 0] + big),
            PNGTextChunk.chunk(type: "iTXt", data: Array("b".utf8) + [0, 1, 0, 0, 0] + big),
        ], into: try Pictures.rgb8(width: 2, height: 2).encoded(format: .png))
        XCTAssertNil(PNGChunkBounds.violation(in: twoChunks))

        let small = Self.zlibRepeating(UInt8(ascii: "a"), matches: 4_000)  // 1,032,001 bytes
        let png = try PNGTextChunk.inserting([
            PNGTextChunk.chunk(type: "zTXt", data: Array("parameters".utf8) + [0, 0] + small),
            PNGTextChunk.iTXt(keyword: "Title", text: "größer"),
        ], into: try Pictures.rgb8(width: 2, height: 2).encoded(format: .png))
        XCTAssertNil(PNGChunkBounds.violation(in: png))
        let image = try VipsImage.load(data: png)
        XCTAssertEqual(image.textEntries["parameters"], String(repeating: "a", count: 1_032_001))
        XCTAssertEqual(image.textEntries["Title"], "größer")
    }

    /// A zlib stream (fixed-Huffman deflate) of `byte` once and then `matches` copies of the previous 258
    /// bytes: 1 + 258 × matches bytes from 13 bits per match, with the right Adler-32.
    static func zlibRepeating(_ byte: UInt8, matches: Int) -> [UInt8] {
        var bits = BitWriter()
        bits.write(1, count: 1)  // BFINAL
        bits.write(1, count: 2)  // BTYPE 01: fixed Huffman codes
        bits.writeCode(0x30 + UInt32(byte), length: 8)  // literal 0...143
        for _ in 0..<matches {
            bits.writeCode(0xC0 + 5, length: 8)  // symbol 285: length 258, no extra bits
            bits.writeCode(0, length: 5)  // distance code 0: distance 1
        }
        bits.writeCode(0, length: 7)  // end of block
        let n = UInt64(1 + 258 * matches)
        let a = (1 + n * UInt64(byte)) % 65521
        let b = (n + UInt64(byte) * (n * (n + 1) / 2 % 65521)) % 65521
        let adler = UInt32(b << 16 | a)
        return [0x78, 0x01] + bits.finished + PNGTextChunk.bigEndian(adler)
    }

    struct BitWriter {
        var bytes: [UInt8] = []
        var pending: UInt32 = 0
        var count = 0

        /// Plain fields go least significant bit first.
        mutating func write(_ value: UInt32, count n: Int) {
            for i in 0..<n {
                pending |= ((value >> UInt32(i)) & 1) << UInt32(count)
                count += 1
                if count == 8 { bytes.append(UInt8(pending)); pending = 0; count = 0 }
            }
        }

        /// Huffman codes go most significant bit first.
        mutating func writeCode(_ code: UInt32, length: Int) {
            for i in stride(from: length - 1, through: 0, by: -1) { write((code >> UInt32(i)) & 1, count: 1) }
        }

        /// The stream so far, its last byte padded with zero bits.
        var finished: [UInt8] { count == 0 ? bytes : bytes + [UInt8(pending)] }
    }
}
