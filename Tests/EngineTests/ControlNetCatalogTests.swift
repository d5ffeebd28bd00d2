import Engine
import Foundation
import XCTest

/// ControlNet names through the host's `controlnet/` folder (the `ModelSubfolder` rules every kind's folder
/// follows): paths below it without extension, folders before files, nothing outside it.
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
        try fm.createDirectory(atPath: root + "/elsewhere", withIntermediateDirectories: true)
        fm.createFile(atPath: root + "/elsewhere/outside.safetensors", contents: Data())
        // A linked subfolder is not a way out of the folder.
        try fm.createSymbolicLink(atPath: folder + "/linked", withDestinationPath: root + "/elsewhere")
        let host = ModelHost(directory: root + "/models")
        let catalog = try XCTUnwrap(host.controlNetFolder)

        XCTAssertEqual(catalog.resolve("sd15/canny"), folder + "/sd15/canny", "the folder wins")
        XCTAssertEqual(catalog.resolve("depth"), folder + "/depth.pth")
        XCTAssertEqual(catalog.names(), ["depth", "sd15/canny"])
        for name in ["linked/outside", "../elsewhere/outside", "sd15/../depth", "/depth", "", ".hidden", "sd15//canny",
                     "notes", "depth.pth"] {
            XCTAssertNil(catalog.resolve(name), name)
        }
        XCTAssertThrowsError(try host.controlNet(named: "nope")) { error in
            XCTAssertTrue("\(error)".contains("no ControlNet named 'nope'"), "\(error)")
            XCTAssertTrue("\(error)".contains("depth, sd15/canny"), "\(error)")
        }
    }
}
