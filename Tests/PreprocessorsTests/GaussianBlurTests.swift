import Foundation
import Imaging
@testable import Preprocessors
import XCTest

/// The float32 blurs against cv2.GaussianBlur on a 64x64 photo crop (blur_sigma*.f32 from the fixture script).
final class GaussianBlurTests: XCTestCase {
    func reference(_ sigma: String) throws -> [Float] {
        let bytes = [UInt8](try Data(contentsOf: OpenCVReferenceTests.directory.appendingPathComponent("blur_sigma\(sigma).f32")))
        return stride(from: 0, to: bytes.count - 3, by: 4).map { i in
            Float(bitPattern: UInt32(bytes[i]) | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2]) << 16 | UInt32(bytes[i + 3]) << 24)
        }
    }

    func crop() throws -> [Float] {
        let data = try Data(contentsOf: OpenCVReferenceTests.directory.appendingPathComponent("photo.png"))
        let photo = try ByteImage(hwc3: VipsImage.load(data: [UInt8](data)))
        var out: [Float] = []
        for y in 0 ..< 64 { for x in 0 ..< 64 { for c in 0 ..< 3 { out.append(Float(photo.pixels[(y * photo.width + x) * 3 + c])) } } }
        return out
    }

    /// σ 0.5, 5 and 6 (5, 41 and 49 taps: scribble_xdog's two blurs and lineart_standard's): bit for bit.
    func testBlursAreBitExact() throws {
        let input = try crop()
        for (sigma, name, taps) in [(0.5, "0.5", 5), (5.0, "5.0", 41), (6.0, "6.0", 49)] {
            let blur = GaussianBlur(sigma: sigma)
            XCTAssertEqual(blur.weights.count, taps, "OpenCV's size for float data, round(8 sigma + 1) | 1")
            let ours = blur.apply(input, width: 64, height: 64, channels: 3)
            let expected = try reference(name)
            XCTAssertEqual(ours.count, expected.count)
            XCTAssertEqual(zip(ours, expected).filter { $0.bitPattern != $1.bitPattern }.count, 0, "sigma \(name)")
        }
    }
}
