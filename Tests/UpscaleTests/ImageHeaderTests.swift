import DiffusionProtocol
import Engine
import Foundation
import Imaging
import PluginAPI
import StrictJSON
import XCTest

/// `JobContext.imageHeader`, what memory estimates read before a job: the header of a file opened under the path
/// policy (no pixels decoded), with the same refusals as a whole read.
final class ImageHeaderTests: XCTestCase {
    var dir = ""
    override func setUpWithError() throws { dir = try UpscaleFixtures.temporaryDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

    func context(roots: [String] = []) -> JobContext {
        JobContext(requestID: .integer(1), method: "upscale", pathPolicy: PathPolicy(allowedRoots: roots),
                   modelsDirectory: UpscaleFixtures.models, cancellation: CancellationToken(), progressSink: { _ in })
    }

    func field(_ error: Error) -> String? {
        switch error as? PluginError {
        case let .fileNotFound(field, _)?, let .notARegularFile(field, _, _)?, let .pathNotAllowed(field, _, _)?: return field
        case let .unsupportedImage(field, _)?: return field
        default: return nil
        }
    }

    func testHeaderOfAFileAndOfBase64MatchTheDecodedImage() throws {
        let path = UpscaleFixtures.fixtures + "/photo64.png"
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        let decoded = try context().loadImage(["path": .string(path)], field: "image")
        for value: JSONValue in [["path": .string(path)], ["base64": .string(Data(bytes).base64EncodedString())]] {
            let header = try context().imageHeader(value, field: "image")
            XCTAssertEqual([header.width, header.height, header.bands], [decoded.width, decoded.height, decoded.bands])
        }
    }

    /// A file cut after its header still gives its size, where decoding it fails: only the header was read.
    /// (A JPEG: a PNG's chunk lengths are checked against the file before its header is trusted.)
    func testATruncatedFileGivesItsHeaderWithoutDecoding() throws {
        let jpeg = dir + "/whole.jpg"
        try VipsImage.load(path: UpscaleFixtures.fixtures + "/photo256.png").write(to: jpeg, overwrite: false)
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: jpeg)))
        let cut = dir + "/cut.jpg"
        try Data(bytes.prefix(bytes.count / 2)).write(to: URL(fileURLWithPath: cut))
        let header = try context().imageHeader(["path": .string(cut)], field: "image")
        XCTAssertEqual([header.width, header.height], [256, 256])
        XCTAssertThrowsError(try context().loadImage(["path": .string(cut)], field: "image"))
    }

    func testThePathPolicyApplies() throws {
        let inside = dir + "/inside"
        try FileManager.default.createDirectory(atPath: inside, withIntermediateDirectories: true)
        let photo = UpscaleFixtures.fixtures + "/photo64.png"
        XCTAssertThrowsError(try context(roots: [inside]).imageHeader(["path": .string(photo)], field: "image")) { error in
            guard case .pathNotAllowed? = error as? PluginError else { return XCTFail("\(error)") }
            XCTAssertEqual(self.field(error), "image.path")
        }
        try FileManager.default.copyItem(atPath: photo, toPath: inside + "/p.png")
        XCTAssertEqual(try context(roots: [inside]).imageHeader(["path": .string(inside + "/p.png")], field: "image").width, 64)
        XCTAssertThrowsError(try context().imageHeader(["path": .string(dir + "/missing.png")], field: "image")) { error in
            guard case .fileNotFound? = error as? PluginError else { return XCTFail("\(error)") }
        }
        XCTAssertThrowsError(try context().imageHeader(["path": .string(inside)], field: "image")) { error in
            guard case .notARegularFile? = error as? PluginError else { return XCTFail("\(error)") }
        }
        // A FIFO nobody writes to is refused, not waited on.
        let fifo = dir + "/fifo.png"
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        XCTAssertThrowsError(try context().imageHeader(["path": .string(fifo)], field: "image")) { error in
            guard case .notARegularFile? = error as? PluginError else { return XCTFail("\(error)") }
        }
        let text = dir + "/notes.png"
        try Data("not an image".utf8).write(to: URL(fileURLWithPath: text))
        XCTAssertThrowsError(try context().imageHeader(["path": .string(text)], field: "image")) { error in
            XCTAssertEqual(self.field(error), "image.path", "\(error)")
        }
    }
}
