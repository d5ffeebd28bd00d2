import Foundation
import XCTest
@testable import Imaging

final class LoadTests: XCTestCase {
    func testRoundTripPNG8And16() throws {
        let dir = try TempDir()
        for image in [try Pictures.rgb8(width: 13, height: 7), try Pictures.rgb16(width: 13, height: 7)] {
            let path = dir.file("rt\(image.bitDepth).png")
            try image.write(to: path, overwrite: false)
            let back = try VipsImage.load(path: path)
            XCTAssertEqual(back.size, ImageSize(width: 13, height: 7))
            XCTAssertEqual(back.bitDepth, image.bitDepth)
            XCTAssertEqual(back.bands, 3)
            if image.bitDepth == 8 {
                XCTAssertEqual(try back.bytes(), try image.bytes())  // PNG is lossless: exact
                XCTAssertEqual(back.interpretation, .srgb)
            } else {
                XCTAssertEqual(try back.shorts(), try image.shorts())
                XCTAssertEqual(back.interpretation, .rgb16)
            }
        }
    }

    func testLoadFromDataMatchesFile() throws {
        let image = try Pictures.rgb8(width: 9, height: 5)
        let png = try image.encoded(format: .png)
        XCTAssertEqual(Array(png.prefix(8)), PNGBytes.signature)
        let lazy = try VipsImage.load(data: png, mode: .sequential)
        let eager = try VipsImage.load(data: png)
        XCTAssertEqual(try lazy.bytes(), try image.bytes())
        XCTAssertEqual(try eager.bytes(), try image.bytes())
    }

    func testDecompressionBombRejectedFromHeader() throws {
        // 50,000 x 50,000 8-bit grey: 2.5 GB decoded, a few dozen bytes on disk.
        var png = PNGBytes.signature
        png += PNGBytes.ihdr(width: 50_000, height: 50_000, bitDepth: 8, colorType: 0)
        png += PNGBytes.chunk("IDAT", PNGBytes.zlibStored([UInt8](repeating: 0, count: 64)))
        png += PNGBytes.chunk("IEND", [])
        XCTAssertLessThan(png.count, 4096)
        let dir = try TempDir()
        let path = dir.file("bomb.png")
        try Data(png).write(to: URL(fileURLWithPath: path))
        assertImagingError(try VipsImage.load(path: path)) {
            if case .tooLarge(50_000, 50_000, _) = $0 { return true }
            return false
        }
        assertImagingError(try VipsImage.load(data: png, mode: .sequential)) {
            if case .tooLarge(50_000, 50_000, _) = $0 { return true }
            return false
        }
        // Each limit is enforced on its own.
        let tight = ImageLimits(maxPixels: 100, maxDimension: 1000, maxDecodedBytes: 1 << 30)
        let png16 = try Pictures.rgb8(width: 11, height: 10).encoded(format: .png)
        assertImagingError(try VipsImage.load(data: png16, limits: tight)) {
            if case .tooLarge(11, 10, let limit) = $0 { return limit.contains("100 pixels") }
            return false
        }
        let narrow = ImageLimits(maxPixels: 1 << 20, maxDimension: 10, maxDecodedBytes: 1 << 30)
        assertImagingError(try VipsImage.load(data: png16, limits: narrow)) {
            if case .tooLarge(11, 10, _) = $0 { return true }
            return false
        }
        let few = ImageLimits(maxPixels: 1 << 20, maxDimension: 1000, maxDecodedBytes: 11 * 10 * 3 - 1)
        assertImagingError(try VipsImage.load(data: png16, limits: few)) {
            if case .tooLarge(11, 10, _) = $0 { return true }
            return false
        }
    }

    func testTruncatedPNGIsAnErrorNotGrey() throws {
        let png = try Pictures.rgb8(width: 64, height: 64).encoded(format: .png, options: EncodeOptions(pngCompression: 0))
        let cut = Array(png.prefix(png.count / 2))
        assertImagingError(try VipsImage.load(data: cut)) {
            if case .decodeFailed = $0 { return true }
            return false
        }
        let dir = try TempDir()
        let path = dir.file("cut.png")
        try Data(cut).write(to: URL(fileURLWithPath: path))
        assertImagingError(try VipsImage.load(path: path)) {
            if case .decodeFailed(path, _) = $0 { return true }
            return false
        }
    }

    func testTruncatedJPEGIsAnError() throws {
        let jpeg = try Pictures.rgb8(width: 64, height: 64).encoded(format: .jpeg)
        XCTAssertEqual(Array(jpeg.prefix(2)), [0xFF, 0xD8])
        let cut = Array(jpeg.prefix(jpeg.count * 2 / 3))
        assertImagingError(try VipsImage.load(data: cut)) {
            if case .decodeFailed = $0 { return true }
            return false
        }
    }

    func testNonRegularFilesAreRefusedWithoutBlocking() throws {
        let dir = try TempDir()
        assertImagingError(try VipsImage.load(path: dir.path)) {
            if case .notARegularFile(dir.path, "directory") = $0 { return true }
            return false
        }
        let fifo = dir.file("pipe.png")
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        // Would block forever in open() without a writer if the FIFO were opened for reading.
        assertImagingError(try VipsImage.load(path: fifo)) {
            if case .notARegularFile(fifo, let kind) = $0 { return kind.contains("FIFO") }
            return false
        }
        assertImagingError(try VipsImage.load(path: "/dev/null")) {
            if case .notARegularFile("/dev/null", "character device") = $0 { return true }
            return false
        }
    }

    func testMissingUnsupportedAndEmpty() throws {
        let dir = try TempDir()
        let missing = dir.file("nope.png")
        assertImagingError(try VipsImage.load(path: missing)) { $0 == .fileNotFound(path: missing) }
        let text = dir.file("notes.png")
        try "just text, not an image\n".write(toFile: text, atomically: false, encoding: .utf8)
        assertImagingError(try VipsImage.load(path: text)) {
            if case .unsupportedFormat(text, let detail) = $0 { return detail.contains("6a 75 73 74") }
            return false
        }
        let empty = dir.file("empty.png")
        XCTAssertTrue(FileManager.default.createFile(atPath: empty, contents: Data()))
        assertImagingError(try VipsImage.load(path: empty)) {
            if case .unsupportedFormat(empty, _) = $0 { return true }
            return false
        }
        assertImagingError(try VipsImage.load(data: [])) {
            if case .unsupportedFormat = $0 { return true }
            return false
        }
        // A format libvips knows but the daemon does not accept (a PPM image).
        let ppm = Array("P6\n2 1\n255\n".utf8) + [1, 2, 3, 4, 5, 6]
        assertImagingError(try VipsImage.load(data: ppm)) {
            if case .unsupportedFormat = $0 { return true }
            return false
        }
    }

    func testErrorMessagesSayWhatToDo() {
        XCTAssertTrue(ImagingError.tooLarge(width: 50_000, height: 50_000, limit: "268435456 pixels")
            .description.contains("50000x50000"))
        XCTAssertTrue(ImagingError.notARegularFile(path: "/tmp/x", kind: "FIFO (named pipe)").description
            .contains("not a regular file"))
        XCTAssertTrue(ImagingError.outputExists(path: "/o.png").description.contains("overwrite"))
    }
}

final class OrientationTests: XCTestCase {
    func testExifOrientationIsAppliedOnDecodedLoads() throws {
        // 4x2 grey ramp; orientation 6 means "rotate 90° clockwise to view".
        let image = try VipsImage(bytes: [0, 60, 120, 180, 10, 70, 130, 190], width: 4, height: 2, bands: 1)
        let tagged = try image.settingOrientation(6)
        let tiff = try tagged.encoded(format: .tiff)
        let upright = try VipsImage.load(data: tiff)
        XCTAssertEqual(upright.size, ImageSize(width: 2, height: 4))
        XCTAssertEqual(upright.orientation, 1)
        // Rotated clockwise: the left column of the original becomes the top row, bottom row first.
        XCTAssertEqual(try upright.bytes(), [10, 0, 70, 60, 130, 120, 190, 180])
        let lazy = try VipsImage.load(data: tiff, mode: .sequential)
        XCTAssertEqual(lazy.size, ImageSize(width: 4, height: 2))
        XCTAssertEqual(lazy.orientation, 6)
        XCTAssertThrowsError(try image.settingOrientation(9))
    }
}
