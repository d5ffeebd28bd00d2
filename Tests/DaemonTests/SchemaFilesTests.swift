import DiffusionProtocol
import Foundation
import PluginAPI
import XCTest

/// protocol/schema/*.json describe what the daemon really sends: every schema file is checked against live
/// messages with the daemon's own validator, and the published params schemas equal the files.
final class SchemaFilesTests: XCTestCase {
    func schema(_ name: String) throws -> JSONValue {
        let path = TestPaths.packageRoot.appendingPathComponent("protocol/schema/\(name).json").path
        return try JSONParser.parse([UInt8](try Data(contentsOf: URL(fileURLWithPath: path))))
    }

    func assertValid(_ value: JSONValue?, _ schemaName: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let v = try XCTUnwrap(value, "missing value for \(schemaName)", file: file, line: line)
        do { try SchemaValidator.validate(v, against: try schema(schemaName)) } catch let e as SchemaViolation {
            XCTFail("\(schemaName): \(e.field) \(e.reason) in \(JSONWriter.serialize(v).prefix(400))", file: file, line: line)
        }
    }

    func testSchemaFilesMatchLiveMessages() throws {
        let daemon = try DaemonProcess()
        defer { daemon.stop() }
        let client = try daemon.connect()

        let caps = try client.call(id: .integer(1), method: "capabilities", timeout: 10)
        try assertValid(caps["result"], "capabilities.result")
        let resizeSchema = caps["result"]?["operations"]?.arrayValue?.first { $0["method"] == "resize" }?["params_schema"]
        XCTAssertTrue(try XCTUnwrap(resizeSchema).jsonEquals(try schema("resize.params")), "protocol/schema/resize.params.json is stale")
        for method in caps["result"]?["methods"]?.arrayValue ?? [] {
            guard case .string(let name)? = method["method"], case .object(var file) = try schema("\(name).params") else {
                return XCTFail("no schema file for \(method)")
            }
            file["description"] = nil
            XCTAssertTrue(JSONValue.object(file).jsonEquals(method["params_schema"] ?? .null), "\(name).params.json is stale")
        }

        try assertValid(try client.call(id: .integer(2), method: "ping", timeout: 10)["result"], "ping.result")
        try assertValid(try client.call(id: .integer(3), method: "status", timeout: 10)["result"], "status.result")

        // A resize and its notifications.
        let out = daemon.dir.file("s.png")
        try client.request(4, "resize", ["image": ["path": .string(TestPaths.fixtures + "/small.png")], "scale": 0.5, "output": ["path": .string(out)]])
        let (resize, notes) = try client.collect(id: .integer(4), timeout: 30)
        try assertValid(resize["result"], "resize.result")
        XCTAssertEqual(notes.first?["method"], .string("queued"))
        XCTAssertEqual(notes.dropFirst().first?["method"], .string("started"))
        for note in notes {
            try assertValid(note["params"], "notification.\(note["method"]?.stringValue ?? "?")")
        }
        XCTAssertTrue(notes.contains { $0["method"] == .string("progress") })

        // status while a job runs, cancel's result and the error object.
        try client.request(5, "checksum", longChecksum)
        _ = try client.waitFor(notification: "progress", id: .integer(5), timeout: 20)
        let other = try daemon.connect()
        let busyStatus = try other.call(id: .integer(6), method: "status", timeout: 10)
        try assertValid(busyStatus["result"], "status.result")
        XCTAssertEqual(busyStatus["result"]?["running"]?["id"], .integer(5))
        try assertValid(try other.call(id: .integer(7), method: "cancel", params: ["id": 5], timeout: 10)["result"], "cancel.result")
        let cancelled = try client.collect(id: .integer(5), timeout: 20).response
        try assertValid(cancelled["error"], "error")
        try assertValid(try other.call(id: .integer(8), method: "shutdown", timeout: 10)["result"], "shutdown.result")
    }
}
