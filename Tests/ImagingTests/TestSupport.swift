import Foundation
import XCTest
@testable import Imaging

/// A fresh temporary folder per test, removed afterwards.
final class TempDir {
    let path: String
    init() throws {
        let base = FileManager.default.temporaryDirectory.path + "/imaging-tests-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        path = base
    }
    func file(_ name: String) -> String { path + "/" + name }
    var entries: [String] { (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? [] }
    deinit { try? FileManager.default.removeItem(atPath: path) }
}

enum Fixtures {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/imaging")
    static func bytes(_ name: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: directory.appendingPathComponent(name)))
    }
}

/// Minimal PNG writer for hostile inputs: chunks with correct CRCs around whatever the test wants.
enum PNGBytes {
    static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    static func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let typeBytes = Array(type.utf8)
        return be32(UInt32(data.count)) + typeBytes + data + be32(crc32(typeBytes + data))
    }

    static func ihdr(width: UInt32, height: UInt32, bitDepth: UInt8, colorType: UInt8) -> [UInt8] {
        chunk("IHDR", be32(width) + be32(height) + [bitDepth, colorType, 0, 0, 0])
    }

    /// zlib stream of one stored (uncompressed) block.
    static func zlibStored(_ payload: [UInt8]) -> [UInt8] {
        let n = UInt16(payload.count)
        var out: [UInt8] = [0x78, 0x01, 0x01, UInt8(n & 0xFF), UInt8(n >> 8), UInt8(~n & 0xFF), UInt8(~n >> 8)]
        out += payload
        var a: UInt32 = 1, b: UInt32 = 0
        for byte in payload { a = (a + UInt32(byte)) % 65521; b = (b + a) % 65521 }
        return out + be32((b << 16) | a)
    }

    static func be32(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)] }

    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0 ..< 8 { crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }
}

extension XCTestCase {
    /// Asserts that `body` throws an ImagingError matching `matches`, reporting what was thrown otherwise.
    func assertImagingError<T>(_ body: @autoclosure () throws -> T, file: StaticString = #filePath, line: UInt = #line,
                               _ matches: (ImagingError) -> Bool) {
        do {
            _ = try body()
            XCTFail("expected an ImagingError, nothing was thrown", file: file, line: line)
        } catch let error as ImagingError {
            XCTAssertTrue(matches(error), "unexpected error: \(error)", file: file, line: line)
        } catch {
            XCTFail("unexpected error type: \(error)", file: file, line: line)
        }
    }
}

/// Deterministic test pictures.
enum Pictures {
    /// RGB gradient: r = x * 255 / (w-1), g = y * 255 / (h-1), b = (x + y) % 256.
    static func rgb8(width: Int, height: Int) throws -> VipsImage {
        var bytes: [UInt8] = []
        for y in 0 ..< height {
            for x in 0 ..< width {
                bytes += [UInt8(x * 255 / max(1, width - 1)), UInt8(y * 255 / max(1, height - 1)), UInt8((x + y) % 256)]
            }
        }
        return try VipsImage(bytes: bytes, width: width, height: height, bands: 3)
    }

    static func rgb16(width: Int, height: Int) throws -> VipsImage {
        var shorts: [UInt16] = []
        for y in 0 ..< height {
            for x in 0 ..< width {
                shorts += [UInt16(x * 65535 / max(1, width - 1)), UInt16(y * 65535 / max(1, height - 1)),
                           UInt16((x * 7919 + y * 104_729) % 65536)]
            }
        }
        return try VipsImage(shorts: shorts, width: width, height: height, bands: 3)
    }
}
