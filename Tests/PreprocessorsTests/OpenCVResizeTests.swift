import Foundation
import Imaging
import Preprocessors
import XCTest

/// `ByteImage.resized` against cv2.resize (OpenCV's own code, IPP off) on the photo, for every path of the three
/// interpolations (resizes.json from scripts/fixtures/make_preprocess_fixtures.py): every sample equal.
final class OpenCVResizeTests: XCTestCase {
    struct Entry: Decodable {
        var interpolation: String
        var width: Int
        var height: Int
        var expected: String
    }

    func testEveryResizeMatchesOpenCV() throws {
        let dir = OpenCVReferenceTests.directory
        let entries = try JSONDecoder().decode([Entry].self, from: Data(contentsOf: dir.appendingPathComponent("resizes.json")))
        XCTAssertEqual(entries.count, 15)
        let photo = try ByteImage(hwc3: VipsImage.load(data: [UInt8](Data(contentsOf: dir.appendingPathComponent("photo.png")))))
        let kinds: [String: Interpolation] = ["area": .area, "cubic": .cubic, "nearest": .nearest]
        for e in entries {
            let interpolation = try XCTUnwrap(kinds[e.interpolation], e.interpolation)
            let ours = try photo.resized(width: e.width, height: e.height, interpolation)
            let expected = try ByteImage(hwc3: VipsImage.load(data: [UInt8](Data(contentsOf: dir.appendingPathComponent(e.expected)))))
            XCTAssertEqual(ours.width, expected.width, e.expected)
            XCTAssertEqual(ours.height, expected.height, e.expected)
            let differing = zip(ours.pixels, expected.pixels).filter { $0 != $1 }.count
            XCTAssertEqual(differing, 0, "\(e.expected): \(differing) samples differ from cv2.resize")
        }
    }
}
