import DiffusionProtocol
import Foundation
import StrictJSON
import XCTest

/// The daemon killed outright (`kill -9`) during a model load and during a streamed write, and stopped with
/// SIGTERM during a long job: a restarted daemon serves at once, an output that existed before is never lost or
/// half-written, whatever temporaries the killed one left are swept by the next write of any kind into that
/// folder, and SIGTERM drains as the protocol says (the running job finishes within the grace period or is
/// cancelled, its output is complete or absent, the daemon exits 0).
final class CrashRecoveryTests: XCTestCase {
    static let realModels = TestPaths.packageRoot.appendingPathComponent("models").path

    /// A daemon on the socket a killed one left, timed from launch to its first answer.
    func restart(after killed: DaemonProcess, arguments: [String]) throws -> DaemonProcess {
        let started = Date()
        let daemon = try DaemonProcess(arguments: arguments, withChecksumPlugin: false, socketPath: killed.socketPath, dir: killed.dir)
        XCTAssertLessThan(Date().timeIntervalSince(started), 10, "the restarted daemon answers at once")
        return daemon
    }

    func kill9(_ daemon: DaemonProcess) {
        daemon.signal(SIGKILL)
        XCTAssertNotNil(daemon.waitForExit(timeout: 10))
    }

    /// Waits for tile `n` (or a later one) of job `id`; nil waits for the last tile (never throttled away).
    func waitForTile(_ n: Int?, id: Int64, on client: LineSocketClient) throws -> JSONValue {
        while true {
            let note = try client.waitFor(notification: "progress", id: .integer(id), timeout: 300)
            guard let tile = note["params"]?["tile"]?.intValue, let tiles = note["params"]?["tiles"]?.intValue else { continue }
            if tile >= (n ?? tiles) { return note }
        }
    }

    func testKill9DuringModelLoad() throws {
        let dir = try TempDir()
        let models = try FaultFixtures.modelsFolder(in: dir)
        // The real x4plus network (64 MB of ncnn weights) takes long enough to load to be killed in the middle.
        let real = Self.realModels + "/realesrgan"
        let name = FileManager.default.fileExists(atPath: real + "/realesrgan-x4plus.param") ? "realesrgan-x4plus" : "tiny_compact"
        if name != "tiny_compact" { try FileManager.default.createSymbolicLink(atPath: models + "/realesrgan", withDestinationPath: real) }
        let arguments = ["--models", models]
        let first = try DaemonProcess(arguments: arguments, withChecksumPlugin: false, dir: dir)
        let client = try first.connect()
        try client.request(1, "models.load", ["model": .string(name)])
        _ = try client.waitFor(notification: "started", id: .integer(1), timeout: 60)
        kill9(first)
        if name != "tiny_compact" { XCTAssertFalse(first.log.contains("model loaded"), "killed before the load finished: \(first.log)") }

        let second = try restart(after: first, arguments: arguments)
        defer { second.stop() }
        let again = try second.connect()
        let list = try again.call(id: .integer(1), method: "models.list", timeout: 60)
        let entry = list["result"]?["models"]?.arrayValue?.first { $0["name"] == .string(name) }
        XCTAssertEqual(entry?["loaded"], .bool(false), "\(list)")
        let load = try again.call(id: .integer(2), method: "models.load", params: ["model": .string(name)], timeout: 300)
        XCTAssertNil(load["error"], "the interrupted load succeeds after the restart: \(load)")
        try FaultFixtures.assertServes(second)
    }

    /// Killed in the middle of a streamed upscale that would overwrite an earlier output, and killed after its
    /// last tile, while the rows are encoded into the output's atomic temporary: the earlier output is
    /// intact each time, no half-written output appears, and a plain resize into the folder after the restart
    /// sweeps every temporary left behind.
    func testKill9DuringStreamedWrite() throws {
        let dir = try TempDir()
        let arguments = ["--models", try FaultFixtures.modelsFolder(in: dir)]
        let outputs = dir.file("out")
        try FileManager.default.createDirectory(atPath: outputs, withIntermediateDirectories: false)
        let kept = outputs + "/photo-x4.png"
        var daemon = try DaemonProcess(arguments: arguments, withChecksumPlugin: false, dir: dir)
        var client = try daemon.connect()
        try client.request(1, "upscale", FaultFixtures.streamedUpscale(FaultFixtures.photo64, to: kept))
        XCTAssertNil(try client.collect(id: .integer(1), timeout: 300).response["error"])
        let earlier = try Data(contentsOf: URL(fileURLWithPath: kept))

        var leftBehind: [String] = []
        for moment in ["mid-stream", "while encoding"] {
            try client.request(2, "upscale", FaultFixtures.streamedUpscale(FaultFixtures.photo256, to: kept, overwrite: true))
            if moment == "mid-stream" {
                _ = try waitForTile(3, id: 2, on: client)
            } else {
                // After the last tile the rows are encoded into the output's atomic temporary: kill as it appears.
                _ = try waitForTile(nil, id: 2, on: client)
                let deadline = Date().addingTimeInterval(60)
                while !FaultFixtures.temporaries(in: outputs).contains(where: { $0.hasPrefix(".photo-x4.png.") }), Date() < deadline {
                    usleep(200)
                }
            }
            kill9(daemon)
            XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: kept)), earlier, "\(moment): the earlier output is intact")
            let temporaries = FaultFixtures.temporaries(in: outputs)
            leftBehind += temporaries
            XCTAssertEqual(Set(try FileManager.default.contentsOfDirectory(atPath: outputs)), Set(temporaries + ["photo-x4.png"]),
                           "\(moment): nothing but the earlier output and the killed writer's temporaries")
            XCTAssertTrue(temporaries.contains { $0.hasPrefix(".diffusiond-strips.") }, "\(moment): the killed stream's rows are left: \(temporaries)")
            if moment == "while encoding" {
                XCTAssertTrue(temporaries.contains { $0.hasPrefix(".photo-x4.png.") }, "and the half-encoded output's temporary: \(temporaries)")
            }
            daemon = try restart(after: daemon, arguments: arguments)
            client = try daemon.connect()
        }
        defer { daemon.stop() }
        // Any write into the folder sweeps them: here a plain resize.
        try client.request(3, "resize", ["image": ["path": .string(FaultFixtures.small)], "width": 8, "output": ["path": .string(outputs + "/small.png")]])
        XCTAssertNil(try client.collect(id: .integer(3), timeout: 60).response["error"])
        XCTAssertEqual(Set(try FileManager.default.contentsOfDirectory(atPath: outputs)), ["photo-x4.png", "small.png"],
                       "the resize swept \(leftBehind)")
        print("temporaries left by the killed writers and swept: \(leftBehind)")
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: kept)), earlier)
        XCTAssertEqual(try FaultFixtures.decodesCompletely(kept).width, 256)
    }

    /// SIGTERM with a streamed upscale running and a job queued: within a long grace period the upscale finishes
    /// and its output is complete; the queued job is cancelled; the daemon exits 0 leaving no temporaries.
    func testSigtermFinishesTheRunningJobWithinGrace() throws {
        let dir = try TempDir()
        let arguments = ["--models", try FaultFixtures.modelsFolder(in: dir), "--shutdown-grace", "120"]
        let daemon = try DaemonProcess(arguments: arguments, withChecksumPlugin: false, dir: dir)
        let client = try daemon.connect()
        let out = dir.file("up.png")
        try client.request(1, "upscale", FaultFixtures.streamedUpscale(FaultFixtures.photo256, to: out))
        _ = try waitForTile(2, id: 1, on: client)
        try client.request(2, "resize", ["image": ["path": .string(FaultFixtures.small)], "width": 8, "output": ["path": .string(dir.file("queued.png"))]])
        _ = try client.waitFor(notification: "queued", id: .integer(2), timeout: 60)
        daemon.signal(SIGTERM)
        // The queued job is answered at once, the running one when it finishes: in either order.
        var replies: [Int64: JSONValue] = [:]
        while replies.count < 2, let message = try client.readMessage(timeout: 300) {
            if case .integer(let id)? = message["id"] { replies[id] = message }
        }
        XCTAssertEqual(replies[1]?["result"]?["image"]?["width"], 1024, "\(replies)")
        XCTAssertEqual(replies[2]?.errorCode, RPCErrorCode.cancelled, "\(replies)")
        XCTAssertEqual(daemon.waitForExit(timeout: 60), 0, daemon.log)
        XCTAssertEqual(try FaultFixtures.decodesCompletely(out).width, 1024, "the output is complete")
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.file("queued.png")))
        XCTAssertEqual(FaultFixtures.temporaries(in: dir.path), [])
        let restarted = try restart(after: daemon, arguments: arguments)
        defer { restarted.stop() }
        try FaultFixtures.assertServes(restarted)
    }

    /// SIGTERM with a generation that outlasts a short grace period: it is cancelled (-32800), leaves neither
    /// an output nor a temporary, and the daemon exits 0.
    func testSigtermCancelsALongJobAfterGrace() throws {
        let dir = try TempDir()
        let arguments = ["--models", try FaultFixtures.modelsFolder(in: dir), "--shutdown-grace", "0.3"]
        let daemon = try DaemonProcess(arguments: arguments, withChecksumPlugin: false, dir: dir)
        let client = try daemon.connect()
        let out = dir.file("long.png")
        try client.request(1, "generate", ["model": "tiny", "prompt": "a long walk", "width": 64, "height": 64, "steps": 1000,
                                           "seed": 1, "output": ["path": .string(out)]])
        _ = try client.waitFor(notification: "progress", id: .integer(1), timeout: 120)
        let signalled = Date()
        daemon.signal(SIGTERM)
        XCTAssertEqual(try client.collect(id: .integer(1), timeout: 60).response.errorCode, RPCErrorCode.cancelled)
        XCTAssertEqual(daemon.waitForExit(timeout: 60), 0, daemon.log)
        XCTAssertLessThan(Date().timeIntervalSince(signalled), 15, "the job stops at its next step after the grace period")
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))
        XCTAssertEqual(FaultFixtures.temporaries(in: dir.path), [])
    }
}
