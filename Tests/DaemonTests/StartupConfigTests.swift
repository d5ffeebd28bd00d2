import DiffusionProtocol
import Foundation
import XCTest

/// Configuration file and plugin loading at start-up.
final class StartupConfigTests: XCTestCase {
    /// Runs `diffusiond serve` expecting it to refuse to start; returns its stderr.
    func refusedStart(_ args: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try XCTUnwrap(TestPaths.executable("diffusiond")))
        process.arguments = ["serve"] + args
        let err = Pipe()
        process.standardError = err
        try process.run()
        let deadline = Date().addingTimeInterval(20)
        while process.isRunning, Date() < deadline { usleep(10_000) }
        if process.isRunning { process.terminate(); XCTFail("diffusiond should have refused to start") }
        XCTAssertNotEqual(process.terminationStatus, 0)
        return String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    }

    func testConfigFileSetsOptionsAndFlagsWin() throws {
        let dir = try TempDir()
        let config = dir.file("config.json")
        try #"{"max_queue": 3, "max-line-bytes": 4096, "log_level": "debug", "shutdown_grace": 1}"#.write(toFile: config, atomically: true, encoding: .utf8)
        let daemon = try DaemonProcess(arguments: ["--config", config, "--max-queue", "5"], withChecksumPlugin: false, dir: dir)
        defer { daemon.stop() }
        let caps = try daemon.connect().call(id: .integer(1), method: "capabilities", timeout: 10)
        XCTAssertEqual(caps["result"]?["limits"]?["max_line_bytes"], .integer(4096), "from the file")
        XCTAssertEqual(caps["result"]?["limits"]?["max_queue"], .integer(5), "the flag wins over the file")
    }

    func testUnknownConfigKeyIsRefused() throws {
        let dir = try TempDir()
        let config = dir.file("config.json")
        try #"{"max_qeue": 3}"#.write(toFile: config, atomically: true, encoding: .utf8)
        let message = try refusedStart(["--socket", dir.file("d.sock"), "--config", config])
        XCTAssertTrue(message.contains("unknown key \"max_qeue\""), message)
    }

    /// `--weights` takes the residency names only; `weights` in the config file is the same setting.
    func testWeightResidencyOptionIsCheckedAndReadFromTheConfigFile() throws {
        let dir = try TempDir()
        let message = try refusedStart(["--socket", dir.file("bad.sock"), "--weights", "fp8"])
        XCTAssertTrue(message.contains("--weights fp8") && message.contains("stored, half, fp32"), message)
        let config = dir.file("config.json")
        try #"{"weights": "fp32"}"#.write(toFile: config, atomically: true, encoding: .utf8)
        let daemon = try DaemonProcess(arguments: ["--config", config], withChecksumPlugin: false, dir: dir)
        defer { daemon.stop() }
        let caps = try daemon.connect().call(id: .integer(1), method: "capabilities", timeout: 10)
        XCTAssertNotNil(caps["result"], "a daemon keeping fp32 weights serves")
        let bad = dir.file("bad.json")
        try #"{"weights": "quarter"}"#.write(toFile: bad, atomically: true, encoding: .utf8)
        let fromFile = try refusedStart(["--socket", dir.file("bad2.sock"), "--config", bad])
        XCTAssertTrue(fromFile.contains("quarter"), fromFile)
    }

    /// A plugin with the wrong ABI version stops the daemon at start, naming the file.
    func testBadExternalPluginIsRefusedAtStart() throws {
        let dir = try TempDir()
        let source = dir.file("bad.c")
        try """
        #include "diffusiond_plugin.h"
        static int run(const char *p, const diffusiond_host_v1 *h, char **r, char **e) { return 0; }
        static void release(char *s) {}
        static const diffusiond_plugin_v1 d = { 99, "bad", "wrong ABI", "{\\"type\\":\\"object\\"}", run, release };
        const diffusiond_plugin_v1 *diffusiond_plugin_entry(void) { return &d; }
        """.write(toFile: source, atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: dir.file("plugins"), withIntermediateDirectories: true)
        let cc = Process()
        cc.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        cc.arguments = ["cc", "-shared", "-fPIC", "-I", TestPaths.pluginHeaderDir, "-o", dir.file("plugins/bad.so"), source]
        try cc.run()
        cc.waitUntilExit()
        XCTAssertEqual(cc.terminationStatus, 0)
        let message = try refusedStart(["--socket", dir.file("d.sock"), "--plugins", dir.file("plugins")])
        XCTAssertTrue(message.contains("bad.so") && message.contains("ABI version 99"), message)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.file("d.sock")))
    }
}

/// A plugin that ignores cancellation cannot keep the daemon from shutting down.
final class StuckPluginTests: XCTestCase {
    func testShutdownAnswersForAPluginThatNeverStops() throws {
        let dir = try TempDir()
        let source = dir.file("stuck.c")
        try """
        #include "diffusiond_plugin.h"
        #include <unistd.h>
        static int run(const char *p, const diffusiond_host_v1 *h, char **r, char **e) { for (;;) sleep(1); return 0; }
        static void release(char *s) {}
        static const diffusiond_plugin_v1 d = { DIFFUSIOND_PLUGIN_ABI_VERSION, "stuck", "never returns",
            "{\\"type\\":\\"object\\",\\"additionalProperties\\":false}", run, release };
        const diffusiond_plugin_v1 *diffusiond_plugin_entry(void) { return &d; }
        """.write(toFile: source, atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: dir.file("plugins"), withIntermediateDirectories: true)
        let cc = Process()
        cc.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        cc.arguments = ["cc", "-shared", "-fPIC", "-I", TestPaths.pluginHeaderDir, "-o", dir.file("plugins/stuck.so"), source]
        try cc.run()
        cc.waitUntilExit()
        XCTAssertEqual(cc.terminationStatus, 0)

        let daemon = try DaemonProcess(arguments: ["--plugins", dir.file("plugins"), "--shutdown-grace", "0.2"],
                                       withChecksumPlugin: false, dir: dir)
        let client = try daemon.connect()
        try client.request(1, "stuck")
        _ = try client.waitFor(notification: "started", id: .integer(1), timeout: 20)
        let start = Date()
        daemon.signal(SIGTERM)
        let reply = try client.collect(id: .integer(1), timeout: 30).response
        XCTAssertEqual(reply.errorCode, RPCErrorCode.cancelled)
        XCTAssertEqual(daemon.waitForExit(timeout: 30), 0, daemon.log)
        // grace 0.2 s + the 5 s hard wait, with slack for a loaded machine.
        XCTAssertLessThan(Date().timeIntervalSince(start), 20)
    }
}
