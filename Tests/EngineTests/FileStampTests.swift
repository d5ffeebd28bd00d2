import Foundation
import XCTest
@testable import Engine

/// What makes a resident model stale: its file replaced by rename even at the same size and modification time,
/// a file inside a model folder replaced, a symbolic link re-pointed; an untouched model keeps its stamp.
final class FileStampTests: XCTestCase {
    var dir: String!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("stamp-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir + "/model/unet", withIntermediateDirectories: true)
        try Data(repeating: 1, count: 64).write(to: URL(fileURLWithPath: dir + "/model/unet/weights.safetensors"))
        try Data(repeating: 2, count: 64).write(to: URL(fileURLWithPath: dir + "/single.safetensors"))
    }

    override func tearDownWithError() throws { try FileManager.default.removeItem(atPath: dir) }

    /// Renames a same-sized copy with different bytes over `path`, restoring the old modification time.
    func replaceKeepingSizeAndTime(_ path: String) throws {
        let modified = try XCTUnwrap(try FileManager.default.attributesOfItem(atPath: path)[.modificationDate])
        let replacement = path + ".new"
        try Data(repeating: 9, count: 64).write(to: URL(fileURLWithPath: replacement))
        try FileManager.default.setAttributes([.modificationDate: modified], ofItemAtPath: replacement)
        XCTAssertEqual(rename(replacement, path), 0)
    }

    func testUnchangedFilesKeepTheirStamp() {
        XCTAssertEqual(FileStamp(path: dir + "/single.safetensors"), FileStamp(path: dir + "/single.safetensors"))
        XCTAssertEqual(FileStamp(path: dir + "/model"), FileStamp(path: dir + "/model"))
        XCTAssertNil(FileStamp(path: dir + "/missing"))
    }

    func testFileReplacedByRenameAtTheSameSizeAndTime() throws {
        let path = dir + "/single.safetensors"
        let before = FileStamp(path: path)
        try replaceKeepingSizeAndTime(path)
        XCTAssertNotEqual(FileStamp(path: path), before)
    }

    func testFileInsideAModelFolderReplaced() throws {
        let before = FileStamp(path: dir + "/model")
        try replaceKeepingSizeAndTime(dir + "/model/unet/weights.safetensors")
        XCTAssertNotEqual(FileStamp(path: dir + "/model"), before, "a diffusers folder is stamped by its files")
    }

    func testSymbolicLinkRepointed() throws {
        try FileManager.default.createDirectory(atPath: dir + "/other", withIntermediateDirectories: false)
        try FileManager.default.createSymbolicLink(atPath: dir + "/link", withDestinationPath: dir + "/model")
        let before = FileStamp(path: dir + "/link")
        try FileManager.default.createSymbolicLink(atPath: dir + "/link.new", withDestinationPath: dir + "/other")
        XCTAssertEqual(rename(dir + "/link.new", dir + "/link"), 0)
        XCTAssertNotEqual(FileStamp(path: dir + "/link"), before)
    }
}
