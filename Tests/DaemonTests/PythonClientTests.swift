import DiffusionProtocol
import Foundation
import Imaging
import StrictJSON
import XCTest

/// examples/python/diffusiond_client.py against the real daemon (python3 is in CI; skipped where absent).
final class PythonClientTests: XCTestCase {
    func run(_ args: [String], in folder: String? = nil) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", TestPaths.pythonClient] + args
        if let folder { process.currentDirectoryURL = URL(fileURLWithPath: folder) }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
    }

    func testPythonClientResizesAndReportsErrors() throws {
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: "/usr/bin/python3")
                          || ProcessInfo.processInfo.environment["PATH"]?.split(separator: ":").contains { FileManager.default.isExecutableFile(atPath: "\($0)/python3") } == true,
                          "python3 not installed")
        let daemon = try DaemonProcess(withChecksumPlugin: false)
        defer { daemon.stop() }
        let output = daemon.dir.file("py.png")
        let params = JSONWriter.serialize(["image": ["path": .string(TestPaths.fixtures + "/small.png")], "width": 5,
                                           "output": ["path": .string(output)]])
        let ok = try run(["--socket", daemon.socketPath, "resize", params])
        XCTAssertEqual(ok.status, 0, ok.stderr)
        let result = try JSONParser.parse(ok.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        XCTAssertEqual(result["image"]?["path"], .string(output))
        XCTAssertTrue(ok.stderr.contains("started"), "notifications are shown on stderr: \(ok.stderr)")
        let image = try VipsImage.load(path: output)
        XCTAssertEqual(image.width, 5)
        XCTAssertEqual(image.height, 4, "12 * 5/16 = 3.75 rounds to 4")

        let bad = try run(["--socket", daemon.socketPath, "resize", #"{"width": 5}"#])
        XCTAssertEqual(bad.status, 1)
        XCTAssertTrue(bad.stderr.contains("error -32602: invalid params: image is required"), bad.stderr)
    }

    /// Relative "path" members are resolved against the caller's folder before sending.
    func testPythonClientResolvesRelativePaths() throws {
        try XCTSkipUnless(ProcessInfo.processInfo.environment["PATH"]?.split(separator: ":").contains {
            FileManager.default.isExecutableFile(atPath: "\($0)/python3") } == true, "python3 not installed")
        let daemon = try DaemonProcess(withChecksumPlugin: false)
        defer { daemon.stop() }
        try FileManager.default.copyItem(atPath: TestPaths.fixtures + "/small.png", toPath: daemon.dir.file("in.png"))
        let ok = try run(["--socket", daemon.socketPath, "resize", #"{"image": {"path": "in.png"}, "width": 8, "output": {"path": "out/../rel.png"}}"#],
                         in: daemon.dir.path)
        XCTAssertEqual(ok.status, 0, ok.stderr)
        let result = try JSONParser.parse(ok.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        XCTAssertEqual(result["image"]?["path"], .string(daemon.dir.file("rel.png")), "resolved and normalised")
        XCTAssertEqual(try VipsImage.load(path: daemon.dir.file("rel.png")).width, 8)
    }
}
