import Foundation
import XCTest
@testable import Imaging

final class WriteTests: XCTestCase {
    func testFormatFromExtension() {
        XCTAssertEqual(ImageFormat(path: "/a/b.PNG"), .png)
        XCTAssertEqual(ImageFormat(path: "/a/b.jpeg"), .jpeg)
        XCTAssertEqual(ImageFormat(path: "x.jpg"), .jpeg)
        XCTAssertEqual(ImageFormat(path: "/a.b/c.webp"), .webp)
        XCTAssertEqual(ImageFormat(path: "c.tif"), .tiff)
        XCTAssertEqual(ImageFormat(path: "c.tiff"), .tiff)
        XCTAssertNil(ImageFormat(path: "/a.png/noext"))
        XCTAssertNil(ImageFormat(path: "/a/.png"))
        XCTAssertNil(ImageFormat(path: "c.gif"))
    }

    func testEveryFormatWritesAndReadsBack() throws {
        let dir = try TempDir()
        let image = try Pictures.rgb8(width: 21, height: 11)
        for ext in ["png", "jpg", "jpeg", "webp", "tif", "tiff"] {
            let path = dir.file("out.\(ext)")
            try image.write(to: path, overwrite: false)
            let back = try VipsImage.load(path: path)
            XCTAssertEqual(back.size, image.size, ext)
            XCTAssertEqual(back.bands, 3, ext)
            if ext == "png" || ext.hasPrefix("tif") {
                XCTAssertEqual(try back.bytes(), try image.bytes(), "\(ext) is lossless")
            }
        }
        // Nothing but the outputs: no temporary files left behind.
        XCTAssertEqual(Set(dir.entries), ["out.png", "out.jpg", "out.jpeg", "out.webp", "out.tif", "out.tiff"])
    }

    func testTiledAndPyramidalTIFF() throws {
        let dir = try TempDir()
        let image = try Pictures.rgb16(width: 300, height: 260)
        for (name, options) in [("tiled.tif", EncodeOptions(tiled: true)), ("pyramid.tif", EncodeOptions(pyramid: true))] {
            let path = dir.file(name)
            try image.write(to: path, overwrite: false, options: options)
            let back = try VipsImage.load(path: path)
            XCTAssertEqual(try back.shorts(), try image.shorts(), name)  // deflate is lossless
        }
        // The pyramid holds the full image plus its halvings: larger than the single-level file.
        let single = try FileManager.default.attributesOfItem(atPath: dir.file("tiled.tif"))[.size] as? Int ?? 0
        let pyramid = try FileManager.default.attributesOfItem(atPath: dir.file("pyramid.tif"))[.size] as? Int ?? 0
        XCTAssertGreaterThan(pyramid, single)
    }

    func testSixteenBitToJPEGIsScaledNotClipped() throws {
        let flat = try VipsImage(shorts: [UInt16](repeating: 32896, count: 8 * 8 * 3), width: 8, height: 8, bands: 3)
        let back = try VipsImage.load(data: try flat.encoded(format: .jpeg))
        XCTAssertEqual(back.bitDepth, 8)
        // 32896 / 257 = 128; JPEG of a flat block reproduces it within 1.
        for v in try back.bytes() { XCTAssertLessThanOrEqual(abs(Int(v) - 128), 1) }
        let png = try VipsImage.load(data: try flat.encoded(format: .png))
        XCTAssertEqual(png.bitDepth, 16, "PNG keeps 16-bit")
    }

    func testRefusesExistingUnlessOverwrite() throws {
        let dir = try TempDir()
        let path = dir.file("a.png")
        let first = try Pictures.rgb8(width: 4, height: 4)
        let second = try Pictures.rgb8(width: 6, height: 2)
        try first.write(to: path, overwrite: false)
        assertImagingError(try second.write(to: path, overwrite: false)) { $0 == .outputExists(path: path) }
        XCTAssertEqual(try VipsImage.load(path: path).width, 4, "the refused write left the file alone")
        try second.write(to: path, overwrite: true)
        XCTAssertEqual(try VipsImage.load(path: path).width, 6)
        XCTAssertEqual(dir.entries, ["a.png"])
    }

    func testWriteErrors() throws {
        let dir = try TempDir()
        let image = try Pictures.rgb8(width: 4, height: 4)
        assertImagingError(try image.write(to: dir.file("a.bmp"), overwrite: false)) {
            if case .unsupportedFormat = $0 { return true }
            return false
        }
        assertImagingError(try image.write(to: dir.file("missing/a.png"), overwrite: false)) {
            if case .writeFailed(_, let detail) = $0 { return detail.contains("does not exist") }
            return false
        }
        try FileManager.default.createDirectory(atPath: dir.file("d.png"), withIntermediateDirectories: false)
        assertImagingError(try image.write(to: dir.file("d.png"), overwrite: true)) {
            if case .writeFailed = $0 { return true }
            return false
        }
        XCTAssertEqual(Set(dir.entries), ["d.png"])
    }

    func testPNGParametersTextRoundTrips() throws {
        let dir = try TempDir()
        let parameters = "a red door, oil painting\nNegative prompt: blurry\nSteps: 20, Sampler: Euler a, Seed: 42, Size: 8x8"
        let image = try Pictures.rgb8(width: 8, height: 8).settingText("parameters", parameters)
            .settingText("Software", "diffusiond")
        XCTAssertEqual(image.textEntries, ["parameters": parameters, "Software": "diffusiond"])
        let path = dir.file("meta.png")
        try image.write(to: path, overwrite: false)
        let back = try VipsImage.load(path: path)
        XCTAssertEqual(back.textEntries["parameters"], parameters)
        XCTAssertEqual(back.textEntries["Software"], "diffusiond")
        // Setting an existing keyword replaces it rather than adding a second chunk.
        let replaced = try back.settingText("parameters", "x")
        XCTAssertEqual(replaced.textEntries, ["parameters": "x", "Software": "diffusiond"])
        // The raw file really holds a text chunk with keyword "parameters" (libpng compresses it as zTXt;
        // PIL, and so A1111's PNG-info reader, reads tEXt, zTXt and iTXt alike).
        let raw = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let chunks = ["tEXt", "zTXt", "iTXt"].map { Array("\($0)parameters\0".utf8) }
        XCTAssertTrue(raw.indices.contains { i in chunks.contains { raw[i...].starts(with: $0) } })
    }

    func testICCProfileIsKept() throws {
        let profile = try Fixtures.bytes("srgb.icc")
        let dir = try TempDir()
        let image = try Pictures.rgb8(width: 8, height: 8).settingICCProfile(profile)
        for ext in ["png", "jpg", "webp", "tif"] {
            let path = dir.file("icc.\(ext)")
            try image.write(to: path, overwrite: false)
            XCTAssertEqual(try VipsImage.load(path: path).iccProfile, profile, ext)
        }
        // Derived images keep it too (libvips carries metadata through operations).
        let resized = try VipsImage.load(path: dir.file("icc.png")).resized(width: 5, height: 3, kernel: .lanczos3)
        XCTAssertEqual(resized.iccProfile, profile)
        XCTAssertNil(try resized.settingICCProfile(nil).iccProfile)
    }
}
