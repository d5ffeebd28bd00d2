import Engine
import Foundation
import XCTest

/// ControlNet names: paths below `<models>/controlnet/` without extension, folders before files, nothing outside.
final class ControlNetCatalogTests: XCTestCase {
    func testNamesResolveInsideTheFolderOnly() throws {
        let fm = FileManager.default
        let root = fm.temporaryDirectory.appendingPathComponent("cn-catalog-\(UUID().uuidString)").path
        defer { try? fm.removeItem(atPath: root) }
        let folder = root + "/models/controlnet"
        try fm.createDirectory(atPath: folder + "/sd15/canny", withIntermediateDirectories: true)
        fm.createFile(atPath: folder + "/sd15/canny/config.json", contents: Data("{}".utf8))
        fm.createFile(atPath: folder + "/sd15/canny.safetensors", contents: Data())
        fm.createFile(atPath: folder + "/depth.pth", contents: Data())
        fm.createFile(atPath: folder + "/notes.txt", contents: Data())
        fm.createFile(atPath: folder + "/.hidden.safetensors", contents: Data())
        fm.createFile(atPath: root + "/outside.safetensors", contents: Data())
        try fm.createSymbolicLink(atPath: folder + "/escape.safetensors", withDestinationPath: root + "/outside.safetensors")
        let models = root + "/models"

        XCTAssertEqual(ControlNetCatalog.resolve("sd15/canny", in: models), folder + "/sd15/canny", "the folder wins")
        XCTAssertEqual(ControlNetCatalog.resolve("depth", in: models), folder + "/depth.pth")
        XCTAssertEqual(ControlNetCatalog.available(in: models), ["depth", "sd15/canny"])
        for name in ["escape", "../outside", "sd15/../depth", "/depth", "", ".hidden", "sd15//canny", "notes", "depth.pth"] {
            XCTAssertNil(ControlNetCatalog.resolve(name, in: models), name)
        }
    }
}
