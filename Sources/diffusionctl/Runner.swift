import ArgumentParser
import AtomicFiles
import DiffusionProtocol
import Foundation
import StrictJSON

/// Sends one request (relative `path` members made absolute first), shows its notifications on stderr
/// (`ProgressDisplay`), prints the result on stdout
/// and exits non-zero when the daemon answers with an error.
enum Runner {
    static func run(connection: ConnectionOptions, method: String, params: [String: JSONValue], save: String?) throws {
        let client: LineSocketClient
        do { client = try LineSocketClient(path: connection.socketPath) } catch {
            FileHandle.standardError.write(Data("diffusionctl: \(error)\n".utf8))
            throw ExitCode(2)
        }
        let id = RequestID.integer(Int64(getpid()))
        var progress = ProgressDisplay(quiet: connection.quiet)
        let response: JSONValue
        do {
            response = try client.call(id: id, method: method, params: PathResolver.resolve(params),
                                       timeout: connection.timeout) { name, p in progress.show(name, p) }
        } catch {
            progress.finish()
            FileHandle.standardError.write(Data("diffusionctl: \(error)\n".utf8))
            throw ExitCode(2)
        }
        progress.finish()
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
}
