import DiffusionProtocol
import Foundation
import StrictJSON
import XCTest

/// A bounded, seeded protocol fuzz against a real daemon: hostile lines of every kind, one at a time, each
/// of which must get exactly one well-formed JSON-RPC response (or, only for an over-long line, an error and
/// a closed connection). Afterwards the daemon must still answer `ping`. Seeds are fixed so a failure names
/// the line that caused it and replays identically.
final class FuzzTests: XCTestCase {
    /// Small so over-long lines are cheap to produce; the framing code is the same at any limit.
    static let maxLine = 65_536

    func testHostileLinesEachGetOneWellFormedResponse() throws {
        let daemon = try DaemonProcess(arguments: ["--max-line-bytes", "\(Self.maxLine)", "--max-image-pixels", "4000000",
                                                   "--max-input-bytes", "\(8 << 20)"])
        defer { daemon.stop() }
        let corpus = try FuzzCorpus(dir: daemon.dir)
        // FUZZ_SEED / FUZZ_LINES let a person run a longer or different fuzz locally; CI uses the fixed default.
        let env = ProcessInfo.processInfo.environment
        let seed = env["FUZZ_SEED"].flatMap { UInt64($0) } ?? 0x5EED_F022
        let lines = env["FUZZ_LINES"].flatMap { Int($0) } ?? 2000
        var rng = SplitMix64(seed: seed)
        var outcomes: [String: Int] = [:]
        let start = Date()
        var client = try daemon.connect()
        var closedForLongLines = 0
        for index in 0..<lines {
            // A few fresh connections along the way, so per-connection state is exercised too.
            if index > 0, index % 500 == 0 { client = try daemon.connect() }
            let line = corpus.line(index: index, rng: &rng)
            try client.sendRaw(line.bytes + [UInt8(ascii: "\n")])
            if line.bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { continue }  // keep-alive: no answer
            let response: JSONValue
            do {
                response = try Self.nextResponse(client, timeout: 20)
            } catch {
                XCTFail("seed \(seed) line \(index) (\(line.kind)) got no response: \(error)\n\(line.preview)\n\(daemon.log.suffix(2000))")
                return
            }
            try Self.checkWellFormed(response, line: line, index: index)
            outcomes[response.errorCode.map { "\($0)" } ?? "ok", default: 0] += 1
            if line.bytes.count > Self.maxLine {
                XCTAssertEqual(response.errorCode, RPCErrorCode.lineTooLong, "line \(index)")
                // The daemon closes the connection after an over-long line: nothing more may arrive on it.
                XCTAssertNil(try? client.readMessage(timeout: 5), "line \(index): connection should close after an over-long line")
                closedForLongLines += 1
                client = try daemon.connect()
                continue
            }
            if let id = line.id {
                XCTAssertEqual(response["id"], id.json, "line \(index) (\(line.kind)): answered with another id\n\(line.preview)")
            }
        }
        print("fuzz seed \(seed), \(lines) lines, outcomes: \(outcomes.sorted { $0.key < $1.key })")
        XCTAssertGreaterThan(closedForLongLines, 0, "the corpus should include over-long lines")
        // The corpus must reach the plugins, not only the envelope checks: some jobs succeed.
        XCTAssertGreaterThan(outcomes["ok", default: 0], 50)
        // Nothing extra may be pending: the next response on the connection is the ping's.
        let ping = try Self.callPing(client, id: 999_999)
        XCTAssertEqual(ping["result"]?["pong"], .bool(true))
        let fresh = try daemon.connect()
        XCTAssertEqual(try Self.callPing(fresh, id: 1)["result"]?["pong"], .bool(true))
        XCTAssertTrue(daemon.process.isRunning, "daemon died: \(daemon.log.suffix(2000))")
        XCTAssertLessThan(Date().timeIntervalSince(start), 60, "fuzz run should stay bounded (~30 s)")
        // No hidden temp files left next to outputs.
        let leftovers = (try FileManager.default.contentsOfDirectory(atPath: corpus.outDir)).filter { $0.hasPrefix(".") }
        XCTAssertEqual(leftovers, [], "temp files left behind")
    }

    /// The same corpus pipelined: four connections at once each send 150 lines without waiting, then read;
    /// every non-blank line is answered exactly once and in a well-formed way. Two more connections hang up
    /// in the middle of a line and in the middle of running jobs. The daemon keeps serving.
    func testPipelinedHostileLinesFromConcurrentClients() throws {
        let daemon = try DaemonProcess(arguments: ["--max-line-bytes", "\(Self.maxLine)", "--max-image-pixels", "4000000",
                                                   "--max-queue", "1000"])
        defer { daemon.stop() }
        let corpus = try FuzzCorpus(dir: daemon.dir)
        let lock = NSLock()
        var failures: [String] = []
        func fail(_ m: String) { lock.lock(); failures.append(m); lock.unlock() }
        DispatchQueue.concurrentPerform(iterations: 6) { worker in
            do {
                var rng = SplitMix64(seed: 0xC0FFEE + UInt64(worker))
                let client = try daemon.connect()
                var expected = 0
                for index in 0..<150 {
                    var line = corpus.line(index: worker * 1000 + index, rng: &rng)
                    if line.bytes.count > Self.maxLine { line.bytes = Array(line.bytes.prefix(100)) }  // closing is tested above
                    if worker >= 4, index == 75 {
                        // Hang up mid-line, with jobs possibly queued or running.
                        try client.sendRaw(Array(line.bytes.prefix(line.bytes.count / 2)))
                        client.shutdownWrite()
                        return
                    }
                    try client.sendRaw(line.bytes + [UInt8(ascii: "\n")])
                    if !line.bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { expected += 1 }
                }
                var got = 0
                while got < expected {
                    let r = try Self.nextResponse(client, timeout: 60)
                    try Self.checkWellFormed(r, line: FuzzLine(kind: "pipelined", bytes: []), index: got)
                    got += 1
                }
                try client.request(999_999, "ping")
                let ping = try Self.nextResponse(client, timeout: 20)
                if ping["id"] != .integer(999_999) { fail("worker \(worker): extra response \(ping)") }
            } catch {
                fail("worker \(worker): \(error)")
            }
        }
        XCTAssertEqual(failures, [], String(daemon.log.suffix(2000)))
        XCTAssertEqual(try Self.callPing(try daemon.connect(), id: 1)["result"]?["pong"], .bool(true))
        XCTAssertTrue(daemon.process.isRunning)
    }

    /// Every operation the daemon registers (the model-backed ones too: no models are configured, so they
    /// must fail cleanly), with params generated from its published schema: boundary values, values just
    /// outside the bounds, wrong types, hostile images. Each request gets exactly one well-formed response.
    func testSchemaDrivenParamsForEveryOperation() throws {
        let daemon = try DaemonProcess(arguments: ["--max-image-pixels", "1000000", "--models", TempDir.emptyFolder()])
        defer { daemon.stop() }
        let corpus = try FuzzCorpus(dir: daemon.dir)
        let client = try daemon.connect()
        let caps = try client.call(id: .integer(0), method: "capabilities", timeout: 20)
        let operations = caps["result"]?["operations"]?.arrayValue ?? []
        XCTAssertFalse(operations.isEmpty)
        var rng = SplitMix64(seed: 0x5C4E_4A)
        var id: Int64 = 1
        var outcomes: [String: Int] = [:]
        for op in operations {
            guard case .string(let method)? = op["method"], method != "checksum",
                  case .object(let properties)? = op["params_schema"]?["properties"] else { continue }
            for _ in 0..<40 {
                // Mostly well-formed requests (so the plugins run), some with one property spoiled.
                var params: [String: JSONValue] = [:]
                let required = Set(op["params_schema"]?["required"]?.arrayValue?.compactMap(\.stringValue) ?? [])
                for (name, schema) in properties.sorted(by: { $0.key < $1.key }) where required.contains(name) || rng.chance(0.4) {
                    params[name] = corpus.value(for: schema, name: name, valid: true, rng: &rng)
                }
                if rng.chance(0.3), let name = properties.keys.sorted().randomElement(using: &rng), let schema = properties[name] {
                    params[name] = corpus.value(for: schema, name: name, valid: false, rng: &rng)
                }
                id += 1
                try client.request(id, method, params)
                let started = Date()
                let r: JSONValue
                do { r = try Self.nextResponse(client, timeout: 60) } catch {
                    return XCTFail("\(method) \(params) got no response: \(error)\n\(daemon.log.suffix(2000))")
                }
                let line = FuzzLine(kind: method, bytes: JSONWriter.serializeBytes(.object(params)))
                try Self.checkWellFormed(r, line: line, index: Int(id))
                XCTAssertEqual(r["id"], .integer(id), "\(method)")
                outcomes["\(method) \(r.errorCode.map { "\($0)" } ?? "ok")", default: 0] += 1
                XCTAssertLessThan(Date().timeIntervalSince(started), 20, "\(method) took long for \(line.preview)")
            }
        }
        print("schema fuzz outcomes: \(outcomes.sorted { $0.key < $1.key })")
        XCTAssertEqual(try Self.callPing(client, id: 999_999)["result"]?["pong"], .bool(true))
        XCTAssertTrue(daemon.process.isRunning)
    }

    /// The next message that is a response (has no `method`), skipping notifications.
    static func nextResponse(_ client: LineSocketClient, timeout: Double) throws -> JSONValue {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            guard let m = try client.readMessage(timeout: max(0.001, deadline.timeIntervalSinceNow)) else {
                throw LineSocketClient.ClientError.closed
            }
            if m["method"] == nil { return m }
        }
    }

    static func callPing(_ client: LineSocketClient, id: Int64) throws -> JSONValue {
        try client.request(id, "ping")
        let r = try nextResponse(client, timeout: 20)
        XCTAssertEqual(r["id"], .integer(id), "an extra response was pending before the ping's")
        return r
    }

    /// JSON-RPC 2.0 response shape: jsonrpc "2.0", an id (null only for unreadable requests), exactly one
    /// of result/error, and an error with an integer code and a non-empty message.
    static func checkWellFormed(_ r: JSONValue, line: FuzzLine, index: Int) throws {
        let where_ = "line \(index) (\(line.kind)): \(line.preview)"
        guard case .object(let o) = r else { return XCTFail("not an object: \(where_)") }
        XCTAssertEqual(o["jsonrpc"], .string("2.0"), where_)
        XCTAssertNotNil(o["id"], where_)
        XCTAssertTrue((o["result"] == nil) != (o["error"] == nil), "exactly one of result/error: \(where_)")
        if let e = o["error"] {
            XCTAssertNotNil(e["code"]?.intValue, where_)
            guard case .string(let message)? = e["message"] else { return XCTFail("error without message: \(where_)") }
            XCTAssertFalse(message.isEmpty, where_)
            // Internal errors mean a plugin or the daemon hit something unexpected: the fuzz should not find any.
            XCTAssertNotEqual(e["code"]?.intValue, RPCErrorCode.internalError, "internal error: \(message) \(where_)")
        }
    }
}

/// SplitMix64: tiny, seeded, the same sequence on every platform.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(max(1, n))) }
    mutating func chance(_ p: Double) -> Bool { Double(next() >> 11) / Double(1 << 53) < p }
    mutating func pick<T>(_ xs: [T]) -> T { xs[below(xs.count)] }
}

struct FuzzLine {
    var kind: String
    var bytes: [UInt8]
    /// Set when the line is a well-formed envelope with this id, so the response must carry it.
    var id: RequestID?
    var preview: String { String(decoding: bytes.prefix(300), as: UTF8.self) }
}

/// The hostile material: files of every awkward kind in the test's temp folder plus system paths.
struct FuzzCorpus {
    let dir: TempDir
    let outDir: String
    let inputPaths: [String]
    let outputPaths: [String]
    let base64Images: [String]

    init(dir: TempDir) throws {
        self.dir = dir
        outDir = dir.file("out")
        try FileManager.default.createDirectory(atPath: outDir, withIntermediateDirectories: true)
        let fm = FileManager.default
        let loopA = dir.file("loop-a.png"), loopB = dir.file("loop-b.png")
        try fm.createSymbolicLink(atPath: loopA, withDestinationPath: loopB)
        try fm.createSymbolicLink(atPath: loopB, withDestinationPath: loopA)
        let fifo = dir.file("fifo.png")
        guard mkfifo(fifo, 0o600) == 0 else { throw TestFailure("mkfifo failed: \(errno)") }
        let existing = outDir + "/existing.png"
        try fm.copyItem(atPath: (TestPaths.fixtures + "/small.png"), toPath: existing)
        let unreadable = dir.file("unreadable.png")
        fm.createFile(atPath: unreadable, contents: Data([1, 2, 3]), attributes: [.posixPermissions: 0])
        let sparse = dir.file("sparse.png")
        fm.createFile(atPath: sparse, contents: nil)
        truncate(sparse, 64 << 20)  // over --max-input-bytes, costs no disk
        inputPaths = [
            (TestPaths.fixtures + "/small.png"), (TestPaths.fixtures + "/small16.png"), (TestPaths.fixtures + "/truncated.png"),
            (TestPaths.fixtures + "/bomb.png"), (TestPaths.fixtures + "/not-an-image.png"),
            "/proc/self/mem", "/proc/self/status", "/proc/kcore", "/proc/self/fd/0", "/dev/zero", "/dev/urandom",
            "/dev/null", "/etc/shadow", "/etc/passwd", "/", "/tmp", dir.path, loopA, fifo, unreadable, sparse, existing,
            "relative.png", "", "/nonexistent/x.png", "/\u{0}x", String(repeating: "/a", count: 3000),
        ]
        outputPaths = [
            outDir + "/o.png", outDir + "/o.jpg", outDir + "/o.webp", outDir + "/o.tiff", existing, outDir, outDir + "/",
            outDir + "/x.gif", outDir + "/noext", loopA, fifo, "/proc/self/o.png", "/nonexistent/o.png", "/dev/null",
            "relative.png", outDir + "/\u{202E}gnp.png", outDir + "/" + String(repeating: "n", count: 300) + ".png",
        ]
        let small = try Data(contentsOf: URL(fileURLWithPath: (TestPaths.fixtures + "/small.png")))
        let trunc = try Data(contentsOf: URL(fileURLWithPath: (TestPaths.fixtures + "/truncated.png")))
        let bomb = try Data(contentsOf: URL(fileURLWithPath: (TestPaths.fixtures + "/bomb.png")))
        base64Images = [small.base64EncodedString(), trunc.base64EncodedString(), bomb.base64EncodedString(),
                        Data(small.prefix(40)).base64EncodedString(), "====", "A", "AAAA", "not base64 at all!",
                        String(small.base64EncodedString().dropLast(3)), Data([0x89, 0x50, 0x4E, 0x47]).base64EncodedString()]
    }

    static let methods = ["ping", "status", "capabilities", "cancel", "resize", "checksum", "generate", "", "rpc.discover",
                          "RESIZE", "resize\u{0}", "ping ", "__proto__", "constructor", "😀"]
    static let weirdStrings = ["", " ", "\u{0}", "\u{FEFF}", "\u{202E}", "😀", "\u{10FFFF}", "e\u{301}", "\\", "\"",
                               String(repeating: "x", count: 5000), "lanczos3", "nearest", "png", "-1", "NaN", "1e999"]


    func line(index: Int, rng: inout SplitMix64) -> FuzzLine {
        let id = RequestID.integer(Int64(index + 1))
        switch rng.below(20) {
        case 0: return FuzzLine(kind: "random bytes", bytes: randomBytes(&rng, count: rng.below(200) + 1))
        case 1: return FuzzLine(kind: "random ascii", bytes: (0..<rng.below(300)).map { _ in UInt8(32 + rng.below(95)) })
        case 2:
            var b = validRequestBytes(id: id, rng: &rng)
            b = Array(b.prefix(rng.below(b.count)))
            return FuzzLine(kind: "truncated", bytes: b)
        case 3, 4:
            var b = validRequestBytes(id: id, rng: &rng)
            for _ in 0..<(1 + rng.below(4)) where !b.isEmpty {
                let at = rng.below(b.count)
                switch rng.below(3) {
                case 0: b[at] = UInt8(rng.below(256))
                case 1: b.remove(at: at)
                default: b.insert(rng.pick(Array("{}[]\":,\\0e-.".utf8)), at: at)
                }
            }
            b.removeAll { $0 == UInt8(ascii: "\n") }
            return FuzzLine(kind: "mutated", bytes: b)
        case 5:
            let depth = rng.pick([10, 60, 63, 64, 65, 200, 5000])
            let open = rng.chance(0.5) ? "[" : "{\"a\":"
            let close = open == "[" ? "]" : "}"
            let nested = String(repeating: open, count: depth) + "1" + String(repeating: close, count: depth)
            let text = rng.chance(0.5) ? nested
                : "{\"jsonrpc\":\"2.0\",\"id\":\(index + 1),\"method\":\"ping\",\"params\":{\"x\":\(nested)}}"
            return FuzzLine(kind: "nesting \(depth)", bytes: Array(text.utf8), id: nil)
        case 6:
            let n = rng.pick(["1e309", "-1e309", "1e-400", "123456789012345678901234567890", "-0", "0.0000000001",
                              "9223372036854775807", "9223372036854775808", "-9223372036854775809", "1.5", "NaN", "Infinity",
                              "01", "1.", ".5", "+1", "0x10", "1e+", "-"])
            let field = rng.pick(["id", "width", "height", "scale", "rounds"])
            let text = field == "id"
                ? "{\"jsonrpc\":\"2.0\",\"id\":\(n),\"method\":\"ping\"}"
                : "{\"jsonrpc\":\"2.0\",\"id\":\(index + 1),\"method\":\"\(field == "rounds" ? "checksum" : "resize")\",\"params\":{\"text\":\"a\",\"image\":{\"path\":\"\((TestPaths.fixtures + "/small.png"))\"},\"\(field)\":\(n)}}"
            return FuzzLine(kind: "number \(n)", bytes: Array(text.utf8))
        case 7:
            let s = rng.pick(Self.weirdStrings)
            var bytes = Array("{\"jsonrpc\":\"2.0\",\"id\":\"".utf8) + jsonEscaped(s) + Array("\",\"method\":\"".utf8)
            bytes += jsonEscaped(rng.pick(Self.methods + [s])) + Array("\"}".utf8)
            return FuzzLine(kind: "weird unicode", bytes: bytes)
        case 8:
            // Invalid UTF-8 inside an otherwise fine string, overlong encodings, lone surrogates.
            let bad: [[UInt8]] = [[0xC0, 0xAF], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xFF], [0x80], [0xE2, 0x82]]
            let bytes = Array("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"pi".utf8) + rng.pick(bad) + Array("ng\"}".utf8)
            let escaped = Array("{\"jsonrpc\":\"2.0\",\"id\":\"\\ud800\",\"method\":\"ping\"}".utf8)
            return FuzzLine(kind: "bad utf8", bytes: rng.chance(0.7) ? bytes : escaped)
        case 9:
            if rng.chance(0.2) {
                return FuzzLine(kind: "over-long", bytes: Array(repeating: UInt8(ascii: "a"), count: FuzzTests.maxLine + 1 + rng.below(100_000)))
            }
            let s = String(repeating: rng.pick(["a", "é", "😀", "\\u0000"]), count: rng.below(12_000))
            return FuzzLine(kind: "long string", bytes: Array("{\"jsonrpc\":\"2.0\",\"id\":\(index + 1),\"method\":\"\(s)\"}".utf8))
        case 10:
            return FuzzLine(kind: "blank/odd", bytes: Array(rng.pick(["", " ", "\t", "\r", "null", "[]", "[{}]", "\"x\"", "{}", "1", "true",
                                                                       "{\"jsonrpc\":\"2.0\"}", "{\"jsonrpc\":\"2.0\",\"method\":\"ping\"}",
                                                                       "{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"ping\"}"]).utf8))
        default:
            let request = randomRequest(id: id, rng: &rng)
            return FuzzLine(kind: "request \(request.method)", bytes: JSONWriter.serializeBytes(request.json), id: id)
        }
    }

    /// A value for a property from its JSON schema: usually valid (boundaries included), sometimes just out
    /// of range or of the wrong type. Image-like objects get the hostile inputs; outputs go to the temp folder.
    func value(for schema: JSONValue, name: String, valid: Bool, rng: inout SplitMix64) -> JSONValue {
        if !valid, rng.chance(0.3) { return randomValue(&rng, depth: 2) }
        if case .array(let options)? = schema["enum"], !options.isEmpty {
            return valid ? rng.pick(options) : .string("not-an-option")
        }
        if let oneOf = schema["oneOf"]?.arrayValue {
            let text = JSONWriter.serialize(.array(oneOf))
            if text.contains("overwrite") || name.contains("output") {
                return valid ? ["path": .string(outDir + "/s\(rng.below(1_000_000)).png")] : output(&rng)
            }
            if text.contains("base64") {
                return valid ? rng.pick([["path": .string(inputPaths[0])], ["base64": .string(base64Images[0])], ["path": .string(inputPaths[1])]]) : image(&rng)
            }
        }
        let type = schema["type"]?.stringValue ?? schema["type"]?.arrayValue?.first?.stringValue ?? ""
        switch type {
        case "integer":
            let lo = schema["minimum"]?.intValue ?? -5, hi = min(schema["maximum"]?.intValue ?? 100, 4096)
            // Valid values stay small: a legal but huge size (e.g. outpaint extending by 4096 px a side) is a
            // long job, not a protocol fault, and would only make this test slow.
            let inRange = [lo, lo + rng.below(max(1, min(hi - lo, 64)) + 1)] + [8, 64].filter { $0 >= lo && $0 <= hi }
            return .integer(Int64(valid ? rng.pick(inRange) : rng.pick([lo - 1, hi + 1, Int.min, Int.max])))
        case "number":
            let lo = schema["minimum"]?.doubleValue ?? schema["exclusiveMinimum"]?.doubleValue ?? -1
            let hi = schema["maximum"]?.doubleValue ?? 100
            return .double(valid ? rng.pick([hi, (lo + hi) / 2, lo + (hi - lo) * 0.1]) : rng.pick([lo - 0.5, hi + 0.5, -1e300, 1e300]))
        case "boolean": return .bool(rng.chance(0.5))
        case "string":
            let minLength = schema["minLength"]?.intValue ?? 0
            let text = rng.pick(Self.weirdStrings + ["a cat", "euler", "karras", "cpu", "sd15"])
            return .string(valid && text.count < minLength ? "a cat" : text)
        case "array":
            let item = schema["items"] ?? .null
            return .array((0..<rng.below(4)).map { _ in value(for: item, name: name, valid: valid, rng: &rng) })
        case "object":
            guard case .object(let props)? = schema["properties"] else { return [:] }
            var o: [String: JSONValue] = [:]
            let required = Set(schema["required"]?.arrayValue?.compactMap(\.stringValue) ?? [])
            for (k, v) in props.sorted(by: { $0.key < $1.key }) where required.contains(k) || rng.chance(0.5) {
                o[k] = value(for: v, name: k, valid: valid, rng: &rng)
            }
            return .object(o)
        default: return randomValue(&rng, depth: 2)
        }
    }

    func randomBytes(_ rng: inout SplitMix64, count: Int) -> [UInt8] {
        (0..<count).map { _ in UInt8(rng.below(256)) }.filter { $0 != UInt8(ascii: "\n") }
    }

    func jsonEscaped(_ s: String) -> [UInt8] {
        let encoded = JSONWriter.serializeBytes(.string(s))
        return Array(encoded.dropFirst().dropLast())
    }

    func validRequestBytes(id: RequestID, rng: inout SplitMix64) -> [UInt8] {
        JSONWriter.serializeBytes(randomRequest(id: id, rng: &rng).json)
    }

    func image(_ rng: inout SplitMix64) -> JSONValue {
        switch rng.below(8) {
        case 0, 1, 2: return ["path": .string(rng.pick(inputPaths))]
        case 3, 4: return ["base64": .string(rng.pick(base64Images))]
        case 5: return ["path": .string(rng.pick(inputPaths)), "base64": .string(rng.pick(base64Images))]
        default: return randomValue(&rng, depth: 2)
        }
    }

    func output(_ rng: inout SplitMix64) -> JSONValue {
        switch rng.below(6) {
        case 0, 1: return ["path": .string(rng.pick(outputPaths)), "overwrite": .bool(rng.chance(0.5))]
        case 2: return ["path": .string(outDir + "/o\(rng.below(1000)).\(rng.pick(["png", "jpg", "webp", "tif"]))")]
        case 3: return ["format": .string(rng.pick(["png", "jpeg", "webp", "tiff", "gif", ""]))]
        default: return randomValue(&rng, depth: 2)
        }
    }

    /// Any JSON value, with a bias to the awkward ones.
    func randomValue(_ rng: inout SplitMix64, depth: Int) -> JSONValue {
        switch rng.below(depth > 0 ? 9 : 7) {
        case 0: return .null
        case 1: return .bool(rng.chance(0.5))
        case 2: return .integer(rng.pick([0, -1, 1, 2, 3, 17, 4096, 65_535, 65_536, Int64.max, Int64.min, Int64(rng.below(5000))]))
        case 3: return .double(rng.pick([0.5, -0.0, 1e300, -1e300, 5e-324, 64, 64.000001, 0.0001, 3.5]))
        case 4, 5: return .string(rng.pick(Self.weirdStrings + inputPaths))
        case 6: return .string(String(repeating: "A", count: rng.below(3000)))
        case 7: return .array((0..<rng.below(4)).map { _ in randomValue(&rng, depth: depth - 1) })
        default:
            var o: [String: JSONValue] = [:]
            for _ in 0..<rng.below(4) { o[rng.pick(["path", "base64", "format", "overwrite", "x", ""])] = randomValue(&rng, depth: depth - 1) }
            return .object(o)
        }
    }

    func randomRequest(id: RequestID, rng: inout SplitMix64) -> RPCRequest {
        let method = rng.pick(Self.methods)
        var params: [String: JSONValue] = [:]
        let wellTyped = rng.chance(0.6)
        switch method {
        case "resize":
            params["image"] = image(&rng)
            if rng.chance(0.3) { params["output"] = output(&rng) }
            if wellTyped {
                switch rng.below(4) {
                case 0: params["width"] = .integer(Int64(rng.pick([1, 2, 7, 64, 333, 1999, 2001, 4096, 65_535, 65_536])))
                case 1: params["height"] = .integer(Int64(rng.pick([1, 3, 100, 2000, 65_535])))
                case 2: params["scale"] = .double(rng.pick([0.001, 0.5, 1, 2, 7.5, 64, 64.5]))
                default:
                    params["width"] = .integer(Int64(1 + rng.below(3000)))
                    params["height"] = .integer(Int64(1 + rng.below(3000)))
                }
                if rng.chance(0.5) { params["kernel"] = .string(rng.pick(["lanczos3", "bicubic", "linear", "nearest", "box", ""])) }
            } else {
                for key in ["width", "height", "scale", "kernel", "extra"] where rng.chance(0.4) { params[key] = randomValue(&rng, depth: 2) }
            }
        case "checksum":
            // Bounded rounds: the fuzz checks answers, not a minute of hashing per line.
            params["text"] = wellTyped ? .string(rng.pick(Self.weirdStrings)) : randomValue(&rng, depth: 2)
            if rng.chance(0.7) { params["rounds"] = wellTyped ? .integer(Int64(rng.below(5000)) - 2) : randomValue(&rng, depth: 1) }
        case "cancel":
            params["id"] = wellTyped ? .integer(Int64(rng.below(3000))) : randomValue(&rng, depth: 2)
        default:
            for _ in 0..<rng.below(3) { params[rng.pick(["id", "x", "image", "prompt", ""])] = randomValue(&rng, depth: 3) }
        }
        return RPCRequest(id: id, method: method, params: params)
    }
}
