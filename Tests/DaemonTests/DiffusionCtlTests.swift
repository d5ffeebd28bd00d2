import DiffusionProtocol
import Foundation
import Imaging
import StrictJSON
import XCTest

/// The diffusionctl executable against a real daemon: output, progress on stderr and exit codes.
final class DiffusionCtlTests: XCTestCase {
    func ctl(_ args: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try XCTUnwrap(TestPaths.executable("diffusionctl"), "run swift build first"))
        process.arguments = args
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
    }

    func testCommandsAndExitCodes() throws {
        let daemon = try DaemonProcess(withChecksumPlugin: false)
        defer { daemon.stop() }
        let socket = ["--socket", daemon.socketPath]

        let caps = try ctl(["capabilities"] + socket)
        XCTAssertEqual(caps.status, 0, caps.stderr)
        XCTAssertEqual(try JSONParser.parse(caps.stdout.trimmingCharacters(in: .whitespacesAndNewlines))["protocol_version"], .string("1.0"))

        let status = try ctl(["status"] + socket)
        XCTAssertEqual(status.status, 0)
        XCTAssertEqual(try JSONParser.parse(status.stdout.trimmingCharacters(in: .whitespacesAndNewlines))["queue_length"], .integer(0))

        let cancel = try ctl(["cancel", "12345"] + socket)
        XCTAssertEqual(cancel.status, 1, "an error response exits 1")
        XCTAssertTrue(cancel.stderr.contains("error -32006"), cancel.stderr)

        let out = daemon.dir.file("ctl.png")
        let resize = try ctl(["call", "resize"] + socket + ["-p", "image.path=\(TestPaths.fixtures)/small.png", "-p", "height=3",
                                                             "-p", "kernel=nearest", "-p", "output.path=\(out)"])
        XCTAssertEqual(resize.status, 0, resize.stderr)
        XCTAssertTrue(resize.stderr.contains("started"), "progress goes to stderr: \(resize.stderr)")
        let image = try VipsImage.load(path: out)
        XCTAssertEqual([image.width, image.height], [4, 3], "16x12 to height 3 keeps the aspect ratio")

        let inline = daemon.dir.file("inline.png")
        let saved = try ctl(["call", "resize"] + socket + ["--params", #"{"image":{"path":"\#(TestPaths.fixtures)/small.png"},"width":2}"#,
                                                          "--save", inline, "--quiet"])
        XCTAssertEqual(saved.status, 0, saved.stderr)
        XCTAssertEqual(try VipsImage.load(path: inline).width, 2)

        let invalid = try ctl(["call", "resize"] + socket + ["-p", "width=-1"])
        XCTAssertEqual(invalid.status, 1)
        XCTAssertTrue(invalid.stderr.contains("-32602"), invalid.stderr)

        let noDaemon = try ctl(["ping", "--socket", daemon.dir.file("nobody.sock")])
        XCTAssertEqual(noDaemon.status, 2, "cannot connect exits 2")
        XCTAssertTrue(noDaemon.stderr.contains("is diffusiond running"), noDaemon.stderr)
    }
}
