import DiffusionProtocol
import Foundation
import Imaging
import StrictJSON
import XCTest

/// The diffusionctl executable against a real daemon: output, progress on stderr and exit codes.
final class DiffusionCtlTests: XCTestCase {
    func ctl(_ args: [String], in folder: String? = nil) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try XCTUnwrap(TestPaths.executable("diffusionctl"), "run swift build first"))
        process.arguments = args
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

    /// A daemon with the tiny SD 1.x fixture model as `tiny`.
    private func daemonWithTinyModel() throws -> DaemonProcess {
        let dir = try TempDir()
        let models = dir.file("models")
        try FileManager.default.createDirectory(atPath: models, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: models + "/tiny", withDestinationPath: GenerateOperationTests.sd1Folder)
        return try DaemonProcess(arguments: ["--models", models], withChecksumPlugin: false, dir: dir)
    }

    private func size(_ path: String) throws -> [Int] {
        let image = try VipsImage.load(path: path)
        return [image.width, image.height]
    }

    /// The per-operation shortcuts, run from the daemon's temp folder with relative paths only: every file lands
    /// there, which proves the paths were resolved against the caller's folder before sending.
    func testOperationShortcutsWithRelativePaths() throws {
        let daemon = try daemonWithTinyModel()
        defer { daemon.stop() }
        let folder = daemon.dir.path
        try FileManager.default.copyItem(atPath: TestPaths.fixtures + "/small.png", toPath: daemon.dir.file("in.png"))
        let socket = ["--socket", daemon.socketPath]

        let generate = try ctl(["generate", "gen.png", "--model", "tiny", "--prompt", "a red fox", "--seed", "42", "--steps", "2",
                                "--width", "32", "--height", "24", "--preview", "preview.png", "-p", "cfg_scale=5"] + socket, in: folder)
        XCTAssertEqual(generate.status, 0, generate.stderr)
        XCTAssertEqual(try size(daemon.dir.file("gen.png")), [32, 24])
        XCTAssertTrue(FileManager.default.fileExists(atPath: daemon.dir.file("preview.png")), "--preview writes the preview file")
        let result = try JSONParser.parse(generate.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        XCTAssertEqual(result["images"]?.arrayValue?.first?["path"], .string(daemon.dir.file("gen.png")))
        XCTAssertTrue(result["images"]?.arrayValue?.first?["parameters"]?.stringValue?.contains("CFG scale: 5") == true,
                      "-p members reach the request: \(generate.stdout)")
        XCTAssertTrue(generate.stderr.contains("sampling step 2/2 (100%)"), "plain progress lines off a terminal: \(generate.stderr)")
        XCTAssertFalse(generate.stderr.contains("\r"), "no live line when stderr is not a terminal")

        let again = try ctl(["generate", "gen.png", "--model", "tiny", "--prompt", "x", "--steps", "1", "--width", "32", "--height", "24",
                             "--quiet"] + socket, in: folder)
        XCTAssertEqual(again.status, 1, "an existing output is kept without --overwrite")
        XCTAssertTrue(again.stderr.contains("-32004"), again.stderr)
        let replaced = try ctl(["generate", "gen.png", "--model", "tiny", "--prompt", "x", "--steps", "1", "--width", "16", "--height", "16",
                                "--quiet", "--overwrite"] + socket, in: folder)
        XCTAssertEqual(replaced.status, 0, replaced.stderr)
        XCTAssertEqual(try size(daemon.dir.file("gen.png")), [16, 16])

        let img2img = try ctl(["img2img", "in.png", "i2i.png", "--model", "tiny", "--prompt", "a castle", "--strength", "0.5",
                               "--steps", "2", "--quiet"] + socket, in: folder)
        XCTAssertEqual(img2img.status, 0, img2img.stderr)
        XCTAssertEqual(try size(daemon.dir.file("i2i.png")), [16, 8], "16x12 rounds down to multiples of 8")

        // The image is its own mask (RGB read as luminance); no model = a model-free fill.
        let inpaint = try ctl(["inpaint", "in.png", "in.png", "filled.png", "-p", "fill=edge", "--quiet"] + socket, in: folder)
        XCTAssertEqual(inpaint.status, 0, inpaint.stderr)
        XCTAssertEqual(try size(daemon.dir.file("filled.png")), [16, 12])

        let outpaint = try ctl(["outpaint", "in.png", "wide.png", "--left", "4", "--bottom", "8", "--quiet"] + socket, in: folder)
        XCTAssertEqual(outpaint.status, 0, outpaint.stderr)
        XCTAssertEqual(try size(daemon.dir.file("wide.png")), [20, 20])

        let upscale = try ctl(["upscale", "in.png", "up.png", "--model", "lanczos3", "--scale", "2", "--quiet"] + socket, in: folder)
        XCTAssertEqual(upscale.status, 0, upscale.stderr)
        XCTAssertEqual(try size(daemon.dir.file("up.png")), [32, 24])

        let call = try ctl(["call", "resize", "-p", "image.path=in.png", "-p", "width=8", "-p", "output.path=small8.png", "--quiet"] + socket,
                           in: folder)
        XCTAssertEqual(call.status, 0, "call resolves relative path members too: \(call.stderr)")
        XCTAssertEqual(try size(daemon.dir.file("small8.png")), [8, 6])

        let missing = try ctl(["upscale", "nothere.png", "x.png", "--model", "lanczos3", "--scale", "2", "--quiet"] + socket, in: folder)
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.stderr.contains(daemon.dir.file("nothere.png")), "the daemon names the resolved path: \(missing.stderr)")
    }

    /// On a terminal (a pseudo-terminal from script(1)) progress is one live line redrawn in place, with a bar and the ETA.
    func testLiveProgressLineOnATerminal() throws {
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: "/usr/bin/script"), "script(1) not installed")
        let daemon = try daemonWithTinyModel()
        defer { daemon.stop() }
        let binary = try XCTUnwrap(TestPaths.executable("diffusionctl"))
        let command = [binary, "generate", daemon.dir.file("live.png"), "--model", "tiny", "--prompt", "fox", "--steps", "4",
                       "--width", "16", "--height", "16", "--socket", daemon.socketPath].map { "'\($0)'" }.joined(separator: " ")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/script")
        process.arguments = ["-qec", command, "/dev/null"]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = out
        process.standardInput = FileHandle(forReadingAtPath: "/dev/null")
        try process.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, text)
        XCTAssertTrue(text.contains("\r\u{1B}[K"), "the line is redrawn in place: \(text.debugDescription)")
        // The daemon throttles progress notifications, so which steps arrive varies; every bar drawn must show
        // its step exactly (24 cells, k/4 of them filled), and the last step always arrives.
        let bar = try NSRegularExpression(pattern: #"sampling \[(#*)(-*)\] step (\d)/4 \((\d+)%\)"#)
        let bars = bar.matches(in: text, range: NSRange(text.startIndex..., in: text)).map { m in
            (0 ..< 5).map { String(text[Range(m.range(at: $0), in: text)!]) }
        }
        XCTAssertFalse(bars.isEmpty, "a bar: \(text.debugDescription)")
        for parts in bars {
            let step = Int(parts[3]) ?? -1
            XCTAssertEqual(parts[1].count, 24 * step / 4, "filled cells for step \(step): \(parts[0])")
            XCTAssertEqual(parts[1].count + parts[2].count, 24, parts[0])
            XCTAssertEqual(Int(parts[4]), 25 * step, parts[0])
        }
        XCTAssertTrue(text.contains("sampling [########################] step 4/4 (100%)"), text.debugDescription)
        XCTAssertTrue(text.contains("ETA "), "the ETA is shown: \(text.debugDescription)")
        let lines = text.components(separatedBy: "\n").filter { $0.contains("sampling [") }
        XCTAssertEqual(lines.count, 1, "one line for the whole job, not one per notification: \(text.debugDescription)")
    }
}
