import DiffusionProtocol
import Foundation
import StrictJSON
import XCTest

/// Start-up and shutdown: socket permissions, single instance, stale sockets, signals.
final class LifecycleTests: XCTestCase {
    func testSocketIsOwnerOnly() throws {
        let daemon = try DaemonProcess(withChecksumPlugin: false)
        defer { daemon.stop() }
        var st = stat()
        XCTAssertEqual(lstat(daemon.socketPath, &st), 0)
        XCTAssertEqual(st.st_mode & S_IFMT, S_IFSOCK)
        XCTAssertEqual(st.st_mode & 0o777, 0o600, "only the owner may connect")
    }

    /// A socket in a folder that does not exist yet: the folder is created 0700.
    func testMissingSocketFolderIsCreatedPrivate() throws {
        let dir = try TempDir()
        let daemon = try DaemonProcess(withChecksumPlugin: false, socketPath: dir.file("sub/d.sock"), dir: dir)
        defer { daemon.stop() }
        var st = stat()
        XCTAssertEqual(stat(dir.file("sub"), &st), 0)
        XCTAssertEqual(st.st_mode & 0o777, 0o700)
    }

    func testSecondInstanceRefusesAndFirstKeepsServing() throws {
        let first = try DaemonProcess(withChecksumPlugin: false)
        defer { first.stop() }
        let second = Process()
        second.executableURL = URL(fileURLWithPath: try XCTUnwrap(TestPaths.executable("diffusiond")))
        second.arguments = ["serve", "--socket", first.socketPath]
        let errPipe = Pipe()
        second.standardError = errPipe
        try second.run()
        let deadline = Date().addingTimeInterval(20)
        while second.isRunning, Date() < deadline { usleep(10_000) }
        XCTAssertFalse(second.isRunning)
        if second.isRunning { second.terminate() }
        XCTAssertNotEqual(second.terminationStatus, 0)
        let message = String(decoding: errPipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertTrue(message.contains("another diffusiond is already serving"), message)
        let pong = try first.connect().call(id: .integer(1), method: "ping", timeout: 10)
        XCTAssertEqual(pong["result"]?["pong"], .bool(true))
    }

    /// kill -9 leaves the socket file behind; the next daemon detects it is stale and replaces it.
    func testStaleSocketAfterKill9IsReplaced() throws {
        let dir = try TempDir()
        let first = try DaemonProcess(withChecksumPlugin: false, dir: dir)
        first.signal(SIGKILL)
        XCTAssertNotNil(first.waitForExit(timeout: 10))
        XCTAssertTrue(FileManager.default.fileExists(atPath: first.socketPath), "kill -9 leaves the socket file")
        let second = try DaemonProcess(withChecksumPlugin: false, socketPath: first.socketPath, dir: dir)
        defer { second.stop() }
        let pong = try second.connect().call(id: .integer(1), method: "ping", timeout: 10)
        XCTAssertEqual(pong["result"]?["pong"], .bool(true))
    }

    /// A regular file at the socket path is never deleted; the daemon refuses to start.
    func testRegularFileAtSocketPathIsKept() throws {
        let dir = try TempDir()
        let path = dir.file("d.sock")
        try "important".write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try DaemonProcess(withChecksumPlugin: false, socketPath: path, dir: dir))
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "important")
    }

    /// SIGTERM while a job runs: no new connections, the running job finishes within the grace period and
    /// its client gets the result, a queued job gets -32800, the socket is removed and the exit status is 0.
    func testSigtermDrainsAndExitsCleanly() throws {
        let daemon = try DaemonProcess(arguments: ["--shutdown-grace", "30"])
        let client = try daemon.connect()
        // About a second of hashing (8 bytes x 60M rounds), long enough to be running at SIGTERM.
        try client.request(1, "checksum", ["text": "abcdefgh", "rounds": 60_000_000])
        _ = try client.waitFor(notification: "started", id: .integer(1), timeout: 20)
        try client.request(2, "checksum", ["text": "queued", "rounds": 1])
        _ = try client.waitFor(notification: "queued", id: .integer(2), timeout: 20)
        daemon.signal(SIGTERM)
        var replies: [Int64: JSONValue] = [:]
        while replies.count < 2 {
            guard let m = try client.readMessage(timeout: 60) else { break }
            if case .integer(let id)? = m["id"] { replies[id] = m }
        }
        // The full result, not a truncated run: FNV-1a64 of "abcdefgh" x 60M computed by a separate 5-line C
        // program (hashing 480M bytes in debug-built Swift would take ~40 s).
        XCTAssertEqual(replies[1]?["result"]?["fnv1a64"], .string("c4651552ef94f325"))
        XCTAssertEqual(replies[1]?["result"]?["rounds"]?.intValue, 60_000_000)
        XCTAssertEqual(replies[2]?.errorCode, RPCErrorCode.cancelled)
        XCTAssertEqual(daemon.waitForExit(timeout: 30), 0, daemon.log)
        XCTAssertFalse(FileManager.default.fileExists(atPath: daemon.socketPath), "the socket is removed on exit")
    }

    /// SIGINT with a job that would run for a long time: the grace period ends, the job is cancelled
    /// (-32800 to its client) and the daemon still exits 0.
    func testSigintCancelsRunningJobAfterGrace() throws {
        let daemon = try DaemonProcess(arguments: ["--shutdown-grace", "0.5"])
        let client = try daemon.connect()
        try client.request(1, "checksum", longChecksum)
        _ = try client.waitFor(notification: "started", id: .integer(1), timeout: 20)
        let start = Date()
        daemon.signal(SIGINT)
        let reply = try client.collect(id: .integer(1), timeout: 30).response
        XCTAssertEqual(reply.errorCode, RPCErrorCode.cancelled)
        XCTAssertEqual(daemon.waitForExit(timeout: 30), 0, daemon.log)
        XCTAssertLessThan(Date().timeIntervalSince(start), 15)
    }

    /// The `shutdown` method answers, then the daemon drains and exits 0.
    func testShutdownMethod() throws {
        let daemon = try DaemonProcess(withChecksumPlugin: false)
        let reply = try daemon.connect().call(id: .integer(1), method: "shutdown", timeout: 10)
        XCTAssertEqual(reply["result"]?["shutting_down"], .bool(true))
        XCTAssertEqual(daemon.waitForExit(timeout: 30), 0, daemon.log)
    }

    /// The log has one line per request with id, method, duration and outcome.
    func testOneLogLinePerRequest() throws {
        let daemon = try DaemonProcess(withChecksumPlugin: false)
        let client = try daemon.connect()
        _ = try client.call(id: .string("log-me"), method: "ping", timeout: 10)
        _ = try client.call(id: .string("log-bad"), method: "nope", timeout: 10)
        daemon.stop()
        let lines = daemon.log.split(separator: "\n")
        let ping = lines.filter { $0.contains("id=\"log-me\"") }
        XCTAssertEqual(ping.count, 1, daemon.log)
        XCTAssertTrue(ping.first?.contains("method=ping") == true && ping.first?.contains("outcome=ok") == true && ping.first?.contains("duration_ms=") == true)
        let bad = lines.filter { $0.contains("id=\"log-bad\"") }
        XCTAssertEqual(bad.count, 1)
        XCTAssertTrue(bad.first?.contains("outcome=error -32601") == true)
    }
}

/// Another user cannot connect: checked for real by a child process that drops to `nobody` (needs root,
/// which CI has; skipped otherwise). The temp folder is opened up so only the socket's own mode protects it.
final class SocketPermissionTests: XCTestCase {
    func testOtherUserCannotConnect() throws {
        try XCTSkipUnless(geteuid() == 0, "needs root to switch to another user")
        let daemon = try DaemonProcess(withChecksumPlugin: false)
        defer { daemon.stop() }
        XCTAssertEqual(chmod(daemon.dir.path, 0o755), 0)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", """
            import os, socket, sys
            os.setgid(65534); os.setuid(65534)
            s = socket.socket(socket.AF_UNIX)
            try:
                s.connect(sys.argv[1])
            except PermissionError:
                sys.exit(3)
            sys.exit(0)
            """, daemon.socketPath]
        try process.run()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 3, "connect as another user must fail with EACCES")
        // The owner still can.
        XCTAssertEqual(try daemon.connect().call(id: .integer(1), method: "ping", timeout: 10)["result"]?["pong"], .bool(true))
    }
}

/// The peer-credential check behind the socket's mode: with the socket widened to 0666, another user's
/// connections are refused, closed at once (the daemon's descriptor count does not grow) and logged with uid
/// and pid; the owner keeps being served. Needs root to switch users (CI has it; skipped otherwise).
final class PeerCredentialTests: XCTestCase {
    func openDescriptors(_ pid: Int32) -> Int {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count) ?? -1
    }

    func testRefusedConnectionsAreClosedAndLogged() throws {
        try XCTSkipUnless(geteuid() == 0, "needs root to switch to another user")
        let daemon = try DaemonProcess(withChecksumPlugin: false)
        defer { daemon.stop() }
        XCTAssertEqual(chmod(daemon.dir.path, 0o755), 0)
        XCTAssertEqual(chmod(daemon.socketPath, 0o666), 0, "widen the socket so only the credential check stands")
        let pid = daemon.process.processIdentifier
        _ = try daemon.connect().call(id: .integer(1), method: "ping", timeout: 10)
        usleep(200_000)
        let before = openDescriptors(pid)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", """
            import os, socket, sys
            os.setgid(65534); os.setuid(65534)
            refused = 0
            for _ in range(5):
                s = socket.socket(socket.AF_UNIX)
                s.settimeout(10)
                s.connect(sys.argv[1])
                try:
                    # The daemon may close before or after the request is sent: both are a refusal.
                    s.sendall(b'{"jsonrpc":"2.0","id":1,"method":"ping"}\\n')
                    if s.recv(100) == b"": refused += 1
                except (BrokenPipeError, ConnectionResetError):
                    refused += 1
                s.close()
            sys.exit(0 if refused == 5 else 4)
            """, daemon.socketPath]
        try process.run()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, "every connection from uid 65534 is closed without an answer")
        usleep(300_000)
        XCTAssertEqual(openDescriptors(pid), before, "refused connections leave no descriptor behind")
        let refusals = daemon.log.components(separatedBy: "\n").filter { $0.contains("connection refused") && $0.contains("uid=65534") }
        XCTAssertEqual(refusals.count, 5, daemon.log)
        XCTAssertTrue(refusals.allSatisfy { $0.contains("pid=") })
        XCTAssertEqual(try daemon.connect().call(id: .integer(2), method: "ping", timeout: 10)["result"]?["pong"], .bool(true))
    }
}
