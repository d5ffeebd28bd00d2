import DiffusionProtocol
import Foundation
import Imaging
import PluginAPI
import StrictJSON

/// Replays a protocol/examples/*.jsonl transcript against a daemon (format: protocol/examples/README.md).
struct TranscriptReplayer {
    let client: LineSocketClient
    let tmp: String
    let fixtures: String
    let name: String
    var pending: JSONValue?
    /// Method of each request sent, by serialized id, to find the result schema of its response.
    var methods: [String: String] = [:]

    init(client: LineSocketClient, tmp: String, name: String) {
        self.client = client
        self.tmp = tmp
        self.fixtures = TestPaths.fixtures
        self.name = name
    }

    func substitute(_ v: JSONValue) -> JSONValue { Self.substitute(v, tmp: tmp, fixtures: fixtures) }

    static func substitute(_ v: JSONValue, tmp: String, fixtures: String) -> JSONValue {
        switch v {
        case .string(let s):
            return .string(s.replacingOccurrences(of: "$TMP", with: tmp).replacingOccurrences(of: "$FIXTURES", with: fixtures))
        case .array(let a): return .array(a.map { substitute($0, tmp: tmp, fixtures: fixtures) })
        case .object(let o): return .object(o.mapValues { substitute($0, tmp: tmp, fixtures: fixtures) })
        default: return v
        }
    }

    /// nil when it matches, else where it differs.
    static func mismatch(_ actual: JSONValue, _ pattern: JSONValue, at path: String = "$") -> String? {
        if case .string(let p) = pattern {
            switch p {
            case "$ANY": return nil
            case "$INT": return actual.typeName == "integer" ? nil : "\(path): expected an integer, got \(JSONWriter.serialize(actual))"
            case "$NUMBER": return actual.doubleValue != nil ? nil : "\(path): expected a number"
            case "$STRING": return actual.stringValue != nil ? nil : "\(path): expected a string"
            default: break
            }
        }
        switch (actual, pattern) {
        case (.object(let a), .object(let p)):
            for key in Set(a.keys).union(p.keys).sorted() {
                guard let av = a[key] else { return "\(path).\(key): missing" }
                guard let pv = p[key] else { return "\(path).\(key): unexpected member \(JSONWriter.serialize(av))" }
                if let m = mismatch(av, pv, at: "\(path).\(key)") { return m }
            }
            return nil
        case (.array(let a), .array(let p)):
            guard a.count == p.count else { return "\(path): \(a.count) items, expected \(p.count)" }
            for (i, (av, pv)) in zip(a, p).enumerated() { if let m = mismatch(av, pv, at: "\(path)[\(i)]") { return m } }
            return nil
        default:
            return actual.jsonEquals(pattern) ? nil : "\(path): got \(JSONWriter.serialize(actual)), expected \(JSONWriter.serialize(pattern))"
        }
    }

    /// Extra `diffusiond serve` arguments from a `{"daemon": [...]}` first line (with $TMP and $FIXTURES
    /// substituted), or none.
    static func daemonArguments(firstLine: String?, tmp: String, name: String) throws -> [String] {
        guard let firstLine, let step = try? JSONParser.parse(firstLine), let args = step["daemon"] else { return [] }
        guard case .array(let items) = substitute(args, tmp: tmp, fixtures: TestPaths.fixtures), items.allSatisfy({ $0.stringValue != nil }) else {
            throw TestFailure("\(name):1: daemon must be an array of strings")
        }
        return items.compactMap(\.stringValue)
    }

    mutating func next(timeout: Double) throws -> JSONValue {
        if let p = pending { pending = nil; return p }
        guard let m = try client.readMessage(timeout: timeout) else { throw TestFailure("\(name): the daemon closed the connection") }
        return m
    }

    mutating func run(lines: [String]) throws {
        for (number, text) in lines.enumerated() where !text.trimmingCharacters(in: .whitespaces).isEmpty {
            let where_ = "\(name):\(number + 1)"
            let step: JSONValue
            do { step = try JSONParser.parse(text) } catch { throw TestFailure("\(where_): not JSON: \(error)") }
            if step["comment"] != nil { continue }
            if step["daemon"] != nil {
                // Read by TranscriptTests before the daemon starts (daemonArguments), so only valid first.
                guard number == 0 else { throw TestFailure("\(where_): a daemon step must be the first line") }
                continue
            }
            if let message = step["send"] {
                if let id = message["id"], case .string(let method)? = message["method"] { methods[JSONWriter.serialize(id)] = method }
                try client.send(substitute(message))
            } else if case .string(let raw)? = step["send_raw"] {
                try client.sendRaw(Array(raw.utf8) + [0x0A])
            } else if case .string(let b64)? = step["send_base64"] {
                guard let data = Data(base64Encoded: b64) else { throw TestFailure("\(where_): bad base64") }
                try client.sendRaw([UInt8](data) + [0x0A])
            } else if let pattern = step["recv"].map(substitute) {
                if step["repeat"] == .bool(true) {
                    while true {
                        let m = try next(timeout: 30)
                        if TranscriptReplayer.mismatch(m, pattern) != nil { pending = m; break }
                        try checkSchema(m, where_)
                    }
                } else {
                    let m = try next(timeout: 30)
                    if let diff = TranscriptReplayer.mismatch(m, pattern) {
                        throw TestFailure("\(where_): \(diff)\n  received: \(JSONWriter.serialize(m))")
                    }
                    try checkSchema(m, where_)
                }
            } else if case .string(let action)? = step["setup"], case .string(let rawPath)? = step["path"].map(substitute) {
                try setup(action, rawPath, step, where_)
            } else if case .string(let check)? = step["check"], case .string(let path)? = step["path"].map(substitute) {
                try checkFile(check, path, step, where_)
            } else {
                throw TestFailure("\(where_): unknown step \(text)")
            }
        }
        if let p = pending { throw TestFailure("\(name): unexpected extra message \(JSONWriter.serialize(p))") }
    }

    /// Every message the daemon sends must also satisfy its protocol/schema file: a result its method's
    /// `<method>.result.json` (when the method has one: external plugins do not), an error `error.json`, a
    /// notification's params `notification.<name>.json`.
    func checkSchema(_ message: JSONValue, _ where_: String) throws {
        let name: String?, value: JSONValue?
        if let result = message["result"] {
            name = message["id"].flatMap { methods[JSONWriter.serialize($0)] }.map { "\($0).result" }
            value = result
        } else if let error = message["error"] {
            (name, value) = ("error", error)
        } else if case .string(let method)? = message["method"] {
            (name, value) = ("notification.\(method)", message["params"])
        } else {
            (name, value) = (nil, nil)
        }
        guard let name, let value else { return }
        let path = TestPaths.packageRoot.appendingPathComponent("protocol/schema/\(name).json").path
        guard let data = FileManager.default.contents(atPath: path) else { return }
        do { try SchemaValidator.validate(value, against: try JSONParser.parse([UInt8](data))) } catch let v as SchemaViolation {
            throw TestFailure("\(where_): the message does not satisfy protocol/schema/\(name).json: \(v.field) \(v.reason)\n  received: \(JSONWriter.serialize(message).prefix(600))")
        }
    }

    func setup(_ action: String, _ path: String, _ step: JSONValue, _ where_: String) throws {
        switch action {
        case "mkdir": try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        case "mkfifo": guard mkfifo(path, 0o600) == 0 else { throw TestFailure("\(where_): mkfifo failed") }
        case "symlink":
            guard case .string(let target)? = step["from"].map(substitute) else { throw TestFailure("\(where_): symlink needs from") }
            try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: target)
        case "copy":
            guard case .string(let from)? = step["from"].map(substitute) else { throw TestFailure("\(where_): copy needs from") }
            try FileManager.default.copyItem(atPath: from, toPath: path)
        default: throw TestFailure("\(where_): unknown setup \(action)")
        }
    }

    func checkFile(_ check: String, _ path: String, _ step: JSONValue, _ where_: String) throws {
        switch check {
        case "image":
            let image = try VipsImage.load(path: path)
            for (key, actual) in [("width", image.width), ("height", image.height), ("bands", image.bands), ("bit_depth", image.bitDepth)] {
                if let expected = step[key]?.intValue, expected != actual {
                    throw TestFailure("\(where_): \(path) has \(key) \(actual), expected \(expected)")
                }
            }
        case "absent":
            if FileManager.default.fileExists(atPath: path) { throw TestFailure("\(where_): \(path) should not exist") }
        case "unchanged_from":
            guard case .string(let from)? = step["from"].map(substitute) else { throw TestFailure("\(where_): needs from") }
            guard FileManager.default.contentsEqual(atPath: path, andPath: from) else { throw TestFailure("\(where_): \(path) was modified") }
        default: throw TestFailure("\(where_): unknown check \(check)")
        }
    }
}
