import DiffusionProtocol
import Foundation

/// A real `diffusiond serve` child process on a socket in a private temp folder.
final class DaemonProcess {
    let dir: TempDir
    let socketPath: String
    let logPath: String
    let process = Process()
    private var stopped = false

    /// Starts the daemon and waits (bounded) until it answers a ping.
    init(arguments extra: [String] = [], withChecksumPlugin: Bool = true, socketPath: String? = nil, dir: TempDir? = nil) throws {
        self.dir = try dir ?? TempDir()
        self.socketPath = socketPath ?? self.dir.file("d.sock")
        self.logPath = self.dir.file("daemon.log")
        guard let binary = TestPaths.executable("diffusiond") else {
            throw TestFailure("diffusiond executable not found; run `swift build` before `swift test` (scripts/test.sh does)")
        }
        var args = ["serve", "--socket", self.socketPath, "--threads", "1", "--log-level", "info"]
        if withChecksumPlugin { args += ["--plugins", try ChecksumPlugin.directory()] }
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = args + extra
        FileManager.default.createFile(atPath: logPath, contents: nil)
        process.standardError = FileHandle(forWritingAtPath: logPath)
        process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        try waitUntilReady()
    }

    private func waitUntilReady() throws {
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            if !process.isRunning { throw TestFailure("diffusiond exited at start (status \(process.terminationStatus)): \(log)") }
            if let client = try? LineSocketClient(path: socketPath),
               let reply = try? client.call(id: .integer(0), method: "ping", timeout: 5), reply["result"] != nil {
                return
            }
            usleep(20_000)
        }
        throw TestFailure("diffusiond did not answer within 20 s: \(log)")
    }

    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    func connect() throws -> LineSocketClient { try LineSocketClient(path: socketPath) }

    func signal(_ sig: Int32) { kill(process.processIdentifier, sig) }

    /// Waits (bounded) for the process to exit; returns its status, or nil on timeout.
    func waitForExit(timeout: Double) -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning, Date() < deadline { usleep(10_000) }
        if process.isRunning { return nil }
        stopped = true
        return process.terminationStatus
    }

    /// SIGTERM, then SIGKILL if it does not stop within the timeout.
    func stop(timeout: Double = 15) {
        guard !stopped else { return }
        if process.isRunning {
            signal(SIGTERM)
            if waitForExit(timeout: timeout) == nil { signal(SIGKILL); _ = waitForExit(timeout: 5) }
        }
        stopped = true
    }

    deinit { stop() }
}
