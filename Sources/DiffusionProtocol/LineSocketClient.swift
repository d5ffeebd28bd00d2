import Foundation
#if canImport(Glibc)
import Glibc
import StrictJSON
#endif

/// A small blocking client for the daemon's socket: send lines, read lines with a timeout. Used by
/// diffusionctl and the tests (which need raw access to send malformed bytes).
public final class LineSocketClient {
    public enum ClientError: Error, CustomStringConvertible, Equatable {
        case connectFailed(path: String, detail: String)
        case timedOut(seconds: Double)
        case closed
        case writeFailed(detail: String)
        case badMessage(String)

        public var description: String {
            switch self {
            case .connectFailed(let path, let detail):
                return "cannot connect to \(path): \(detail); is diffusiond running (diffusiond serve --socket \(path))?"
            case .timedOut(let s): return "no reply from the daemon within \(s) s"
            case .closed: return "the daemon closed the connection"
            case .writeFailed(let d): return "sending failed: \(d)"
            case .badMessage(let m): return "the daemon sent something that is not a JSON-RPC message: \(m)"
            }
        }
    }

    public let fd: Int32
    private var buffer: [UInt8] = []
    private var eof = false

    public init(path: String) throws {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw ClientError.connectFailed(path: path, detail: String(cString: strerror(errno))) }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: addr.sun_path) else {
            close(fd)
            throw ClientError.connectFailed(path: path, detail: "path too long")
        }
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in for (i, b) in bytes.enumerated() { raw[i] = b } }
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        if rc != 0 {
            let detail = String(cString: strerror(errno))
            close(fd)
            throw ClientError.connectFailed(path: path, detail: detail)
        }
        // A daemon that closes on us must not kill the client with SIGPIPE.
        signal(SIGPIPE, SIG_IGN)
        self.fd = fd
    }

    deinit { close(fd) }

    public func send(_ message: JSONValue) throws {
        try sendRaw(JSONWriter.serializeBytes(message) + [0x0A])
    }

    public func sendRaw(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, bytes.count - offset) }
            if n < 0 {
                if errno == EINTR { continue }
                throw ClientError.writeFailed(detail: String(cString: strerror(errno)))
            }
            offset += n
        }
    }

    /// Closes the sending side only (the daemon treats this as the client leaving).
    public func shutdownWrite() { shutdown(fd, Int32(SHUT_WR)) }

    /// The next line (without `\n`), or nil at end of stream.
    public func readLine(timeout: Double) throws -> [UInt8]? {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            if let newline = buffer.firstIndex(of: 0x0A) {
                let line = Array(buffer[..<newline])
                buffer.removeFirst(newline + 1)
                return line
            }
            if eof { return nil }
            let remaining = deadline.timeIntervalSinceNow
            guard remaining > 0 else { throw ClientError.timedOut(seconds: timeout) }
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&pfd, 1, Int32(min(remaining, 3600) * 1000) + 1)
            if ready < 0 {
                if errno == EINTR { continue }
                throw ClientError.closed
            }
            if ready == 0 { continue }
            var chunk = [UInt8](repeating: 0, count: 65536)
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
            if n < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                if errno == ECONNRESET { eof = true; continue }
                throw ClientError.closed
            }
            if n == 0 { eof = true; continue }
            buffer.append(contentsOf: chunk[0..<n])
        }
    }

    /// The next message as JSON, or nil at end of stream.
    public func readMessage(timeout: Double) throws -> JSONValue? {
        guard let line = try readLine(timeout: timeout) else { return nil }
        do { return try JSONParser.parse(line) } catch {
            throw ClientError.badMessage(String(decoding: line.prefix(200), as: UTF8.self))
        }
    }

    /// Sends a request and returns its response, handing every notification for it to `onNotification`.
    public func call(id: RequestID, method: String, params: [String: JSONValue] = [:], timeout: Double,
                     onNotification: (String, [String: JSONValue]) -> Void = { _, _ in }) throws -> JSONValue {
        try send(RPCRequest(id: id, method: method, params: params).json)
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            guard let message = try readMessage(timeout: max(0.001, deadline.timeIntervalSinceNow)) else { throw ClientError.closed }
            if message["id"] == id.json { return message }
            if case .string(let name)? = message["method"], case .object(let params)? = message["params"] {
                onNotification(name, params)
            }
        }
    }
}
