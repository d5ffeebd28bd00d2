import ArgumentParser
import AtomicFiles
import DiffusionProtocol
import Foundation
import StrictJSON

/// Sends one request, shows its notifications as a progress line on stderr, prints the result on stdout
/// and exits non-zero when the daemon answers with an error.
enum Runner {
    static func run(connection: ConnectionOptions, method: String, params: [String: JSONValue], save: String?) throws {
        let client: LineSocketClient
        do { client = try LineSocketClient(path: connection.socketPath) } catch {
            FileHandle.standardError.write(Data("diffusionctl: \(error)\n".utf8))
            throw ExitCode(2)
        }
        let id = RequestID.integer(Int64(getpid()))
        let live = isatty(2) != 0
        var drewLine = false
        let response: JSONValue
        do {
            response = try client.call(id: id, method: method, params: params, timeout: connection.timeout) { name, p in
                guard !connection.quiet else { return }
                let text = describe(name, p)
                if live {
                    FileHandle.standardError.write(Data("\r\u{1B}[K\(text)".utf8))
                    drewLine = true
                } else {
                    FileHandle.standardError.write(Data("\(text)\n".utf8))
                }
            }
        } catch {
            if drewLine { FileHandle.standardError.write(Data("\n".utf8)) }
            FileHandle.standardError.write(Data("diffusionctl: \(error)\n".utf8))
            throw ExitCode(2)
        }
        if drewLine { FileHandle.standardError.write(Data("\n".utf8)) }
        if let error = response["error"] {
            let code = error["code"]?.intValue ?? 0
            let message = error["message"]?.stringValue ?? "unknown error"
            FileHandle.standardError.write(Data("diffusionctl: error \(code): \(message)\n".utf8))
            if let data = error["data"] { FileHandle.standardError.write(Data("  data: \(JSONWriter.serialize(data))\n".utf8)) }
            throw ExitCode(1)
        }
        var result = response["result"] ?? .null
        if let save {
            guard case .string(let b64)? = result["image"]?["base64"], let bytes = Data(base64Encoded: b64) else {
                FileHandle.standardError.write(Data("diffusionctl: --save given but the result has no image.base64 (was an output path given?)\n".utf8))
                throw ExitCode(1)
            }
            do { try AtomicFile.write([UInt8](bytes), to: save) } catch {
                let reason = (error as? AtomicFileError)?.reason ?? String(describing: error)
                FileHandle.standardError.write(Data("diffusionctl: cannot write \(save): \(reason)\n".utf8))
                throw ExitCode(1)
            }
            // Don't flood the terminal with the base64 we just saved.
            if case .object(var o) = result, case .object(var image)? = o["image"] {
                image["base64"] = .string("<\(bytes.count) bytes written to \(save)>")
                o["image"] = .object(image)
                result = .object(o)
            }
        }
        print(JSONWriter.serialize(result))
    }

    static func describe(_ name: String, _ p: [String: JSONValue]) -> String {
        let id = p["id"].map { JSONWriter.serialize($0) } ?? "?"
        switch name {
        case "queued": return "[\(id)] queued at position \(p["position"]?.intValue ?? 0)"
        case "started": return "[\(id)] started"
        case "progress":
            var parts = ["[\(id)] \(p["stage"]?.stringValue ?? "")"]
            if let t = p["tile"]?.intValue, let ts = p["tiles"]?.intValue { parts.append("tile \(t)/\(ts)") }
            if let s = p["step"]?.intValue {
                if let ss = p["steps"]?.intValue, ss > 0 {
                    parts.append("step \(s)/\(ss) (\(s * 100 / ss)%)")
                } else {
                    parts.append("step \(s)")
                }
            }
            if let e = p["elapsed_ms"]?.intValue { parts.append(String(format: "%.1fs", Double(e) / 1000)) }
            if let r = p["remaining_ms"]?.intValue { parts.append(String(format: "~%.1fs left", Double(r) / 1000)) }
            return parts.joined(separator: " ")
        default: return "[\(id)] \(name) \(JSONWriter.serialize(.object(p)))"
        }
    }
}
