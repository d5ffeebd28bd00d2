import DiffusionProtocol
import Foundation
import StrictJSON

/// Why the PyTorch side of the bench could not answer.
enum BenchTorchError: Error, CustomStringConvertible {
    case scriptNotFound(searched: [String])
    case launchFailed(command: String, reason: String)
    case workerExited(lastRequest: String)
    case badAnswer(request: String, answer: String)
    case failed(request: String, error: String)

    var description: String {
        switch self {
        case let .scriptNotFound(searched):
            return "PyTorch worker script not found (looked at \(searched.joined(separator: ", "))); pass --torch-worker or --no-torch"
        case let .launchFailed(command, reason):
            return "cannot start the PyTorch worker (\(command)): \(reason)"
        case let .workerExited(request):
            return "the PyTorch worker exited while answering \(request) (see its messages above)"
        case let .badAnswer(request, answer):
            return "the PyTorch worker answered \(request) with something that is not the protocol: \(answer.prefix(200))"
        case let .failed(request, error):
            return "PyTorch failed on \(request): \(error)"
        }
    }
}

/// scripts/bench/torch_worker.py as a child process: one JSON request per line on its stdin, one JSON answer
/// per line on its stdout; its stderr is ours, so PyTorch's warnings and tracebacks stay visible.
///
/// It runs only while we wait for it (and we only while it waits for us), so the two never share the cores.
final class BenchTorchWorker {
    private let process = Process()
    private let input = Pipe()
    private let output = Pipe()
    private var buffered: [UInt8] = []

    /// The default script location: ./scripts/bench/ (bench run from the repository root), else relative to
    /// the executable (.build/<config>/diffusiond-bench → ../../scripts/bench/).
    static func locateScript(explicit: String?) throws -> String {
        if let explicit { return explicit }
        let name = "scripts/bench/torch_worker.py"
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        let candidates = [FileManager.default.currentDirectoryPath + "/" + name,
                          executable.deletingLastPathComponent().appendingPathComponent("../../../" + name).standardized.path,
                          executable.deletingLastPathComponent().appendingPathComponent("../../" + name).standardized.path]
        for path in candidates where FileManager.default.isReadableFile(atPath: path) { return path }
        throw BenchTorchError.scriptNotFound(searched: candidates)
    }

    init(python: String, script: String) throws {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [python, script]
        process.standardInput = input
        process.standardOutput = output
        do { try process.run() } catch {
            throw BenchTorchError.launchFailed(command: "\(python) \(script)", reason: "\(error)")
        }
    }

    /// Sends `request` and waits for its answer; a worker-side failure is thrown with its message.
    func ask(_ request: JSONValue) throws -> [String: JSONValue] {
        let line = JSONWriter.serialize(request)
        do { try input.fileHandleForWriting.write(contentsOf: Array((line + "\n").utf8)) } catch {
            throw BenchTorchError.workerExited(lastRequest: line)
        }
        let answer = try readLine(request: line)
        guard let parsed = try? JSONParser.parse(answer), let object = parsed.objectValue,
              let ok = object["ok"]?.boolValue else {
            throw BenchTorchError.badAnswer(request: line, answer: answer)
        }
        guard ok else { throw BenchTorchError.failed(request: line, error: object["error"]?.stringValue ?? answer) }
        return object
    }

    /// Seconds of one timed call the worker reports.
    func seconds(_ request: JSONValue) throws -> Double {
        let answer = try ask(request)
        guard let seconds = answer["seconds"]?.doubleValue else {
            throw BenchTorchError.badAnswer(request: JSONWriter.serialize(request), answer: "\(answer)")
        }
        return seconds
    }

    func quit() {
        _ = try? ask(["op": "quit"])
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
    }

    deinit {
        if process.isRunning { process.terminate() }
    }

    private func readLine(request: String) throws -> String {
        while true {
            if let newline = buffered.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: buffered[..<newline], as: UTF8.self)
                buffered.removeSubrange(...newline)
                return line
            }
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { throw BenchTorchError.workerExited(lastRequest: request) }
            buffered.append(contentsOf: chunk)
        }
    }
}
