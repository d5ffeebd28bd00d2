import DiffusionProtocol
import Foundation
import Imaging
import PluginAPI
import StrictJSON
import XCTest

/// The three input kinds every mode is proved on.
enum PixelKind: CaseIterable, CustomStringConvertible {
    case rgb8, rgba8, rgb16
    var description: String {
        switch self { case .rgb8: return "8-bit RGB"; case .rgba8: return "8-bit RGBA"; case .rgb16: return "16-bit RGB" }
    }
    var bands: Int { self == .rgba8 ? 4 : 3 }
}

enum TestImages {
    /// Deterministic varied pixels (a small LCG), so a fill that touched a kept pixel would show. RGBA gets varied,
    /// partly transparent alpha.
    static func make(_ kind: PixelKind, width: Int, height: Int, seed: UInt32 = 1) throws -> VipsImage {
        var state = seed &* 2_654_435_761 &+ 12345
        func next() -> UInt32 { state = state &* 1_664_525 &+ 1_013_904_223; return state >> 8 }
        let count = width * height * kind.bands
        switch kind {
        case .rgb8, .rgba8:
            let bytes = (0 ..< count).map { _ in UInt8(truncatingIfNeeded: next()) }
            return try VipsImage(bytes: bytes, width: width, height: height, bands: kind.bands, interpretation: .srgb)
        case .rgb16:
            let shorts = (0 ..< count).map { _ in UInt16(truncatingIfNeeded: next()) }
            return try VipsImage(shorts: shorts, width: width, height: height, bands: 3, interpretation: .rgb16)
        }
    }

    /// Samples as UInt32 whatever the depth, for exact comparison.
    static func samples(_ image: VipsImage) throws -> [UInt32] {
        switch image.format {
        case .uchar: return try image.bytes().map(UInt32.init)
        case .ushort: return try image.shorts().map(UInt32.init)
        default: XCTFail("unexpected format \(image.format)"); return []
        }
    }

    static func png(_ image: VipsImage) throws -> JSONValue {
        ["base64": .string(Data(try image.encoded(format: .png)).base64EncodedString())]
    }

    /// A grey 8-bit mask picture from 0…255 levels.
    static func maskPicture(_ levels: [UInt8], width: Int, height: Int) throws -> VipsImage {
        try VipsImage(bytes: levels, width: width, height: height, bands: 1, interpretation: .bw)
    }

    /// A mask picture with a white rectangle on black.
    static func rectMask(width: Int, height: Int, rect: PixelRect) throws -> VipsImage {
        var levels = [UInt8](repeating: 0, count: width * height)
        for y in rect.y ..< rect.maxY { for x in rect.x ..< rect.maxX { levels[y * width + x] = 255 } }
        return try maskPicture(levels, width: width, height: height)
    }
}

enum PluginHarness {
    static func context(method: String) -> JobContext {
        JobContext(requestID: .integer(1), method: method, pathPolicy: PathPolicy(), modelsDirectory: nil,
                   cancellation: CancellationToken(), progressSink: { _ in })
    }

    /// Runs a plugin after validating params against its schema (as the daemon does) and decodes the inline
    /// result image (PNG keeps 8/16-bit and alpha exactly).
    static func run(_ plugin: any OperationPlugin, _ params: [String: JSONValue]) throws -> (VipsImage, JSONValue) {
        let result = try plugin.run(params: params, context: context(method: plugin.method))
        guard case .string(let text)? = result["image"]?["base64"], let data = Data(base64Encoded: text) else {
            throw PluginError.failed("no inline image in \(result)")
        }
        return (try VipsImage.load(data: [UInt8](data)), result)
    }
}

/// Asserts every pixel of `actual` inside `rect` (actual's coordinates) equals `original` at offset (dx, dy),
/// all bands, exactly.
func assertIdentical(_ actual: VipsImage, _ original: VipsImage, in rect: PixelRect, offset: (Int, Int) = (0, 0),
                     _ message: String, file: StaticString = #filePath, line: UInt = #line) throws {
    XCTAssertEqual(actual.bands, original.bands, "bands: \(message)", file: file, line: line)
    XCTAssertEqual(actual.format, original.format, "format: \(message)", file: file, line: line)
    let a = try TestImages.samples(actual), o = try TestImages.samples(original)
    let b = original.bands
    var mismatches = 0
    for y in rect.y ..< rect.maxY {
        for x in rect.x ..< rect.maxX {
            for c in 0 ..< b where a[(y * actual.width + x) * b + c] != o[((y - offset.1) * original.width + (x - offset.0)) * b + c] {
                mismatches += 1
            }
        }
    }
    // Exact: bit-identical is the promise, no tolerance.
    XCTAssertEqual(mismatches, 0, "samples changed: \(message)", file: file, line: line)
}
