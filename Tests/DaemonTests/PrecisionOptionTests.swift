import DiffusionProtocol
import Foundation
import StrictJSON
import XCTest

/// `serve --precision` (and `precision` in the config file and in each generation request): which precision a job
/// computes in, what results, `status` and `capabilities` report, and how bad values are refused.
final class PrecisionOptionTests: XCTestCase {
    func startDaemon(_ arguments: [String], dir: TempDir) throws -> DaemonProcess {
        let models = dir.file("models")
        if !FileManager.default.fileExists(atPath: models) {
            try FileManager.default.createDirectory(atPath: models, withIntermediateDirectories: true)
            try FileManager.default.createSymbolicLink(atPath: models + "/tiny", withDestinationPath: GenerateOperationTests.sd1Folder)
        }
        return try DaemonProcess(arguments: ["--models", models] + arguments, withChecksumPlugin: false, dir: dir)
    }

    let common: [String: JSONValue] = ["model": "tiny", "prompt": "a red fox", "sampler": "euler", "steps": 3,
                                       "width": 32, "height": 32, "seed": 7]

    /// The inline PNG and the reported precision of one generate.
    func generate(_ client: LineSocketClient, id: Int64, _ extra: [String: JSONValue] = [:]) throws -> (image: JSONValue?, precision: JSONValue?) {
        try client.request(id, "generate", common.merging(extra) { _, new in new })
        let response = try client.collect(id: .integer(id), timeout: 120).response
        XCTAssertNil(response["error"], "\(response)")
        return (response["result"]?["images"]?.arrayValue?.first?["base64"], response["result"]?["precision"])
    }

    func testBF16DaemonAndPerRequestOverride() throws {
        let dir = try TempDir()
        let fp32Daemon = try startDaemon([], dir: dir)
        let fp32Client = try fp32Daemon.connect()
        let reference = try generate(fp32Client, id: 1)
        XCTAssertEqual(reference.precision, "fp32")
        let fp32Bytes = try XCTUnwrap(fp32Client.call(id: .integer(2), method: "models.load", params: ["model": "tiny"], timeout: 60)["result"]?["bytes"]?.intValue)
        let asked = try generate(fp32Client, id: 3, ["precision": "bf16"])
        XCTAssertEqual(asked.precision, "bf16")
        XCTAssertNotEqual(asked.image, reference.image, "bf16 rounds: the image differs")
        // The copies a bf16 request made on a model loaded for fp32 are counted from then on.
        let grown = try fp32Client.call(id: .integer(4), method: "status", timeout: 10)
        XCTAssertGreaterThan(grown["result"]?["resident_bytes"]?.intValue ?? 0, fp32Bytes, "\(grown)")
        XCTAssertEqual(grown["result"]?["models_loaded"]?.arrayValue?.first?["bytes"], grown["result"]?["resident_bytes"])
        fp32Daemon.stop()

        let config = dir.file("config.json")
        try #"{"precision": "bf16"}"#.write(toFile: config, atomically: true, encoding: .utf8)
        let bf16Daemon = try startDaemon(["--config", config], dir: dir)
        defer { bf16Daemon.stop() }
        let client = try bf16Daemon.connect()
        let caps = try client.call(id: .integer(1), method: "capabilities", timeout: 10)
        XCTAssertEqual(caps["result"]?["precision"]?["setting"], "bf16", "\(caps)")
        XCTAssertEqual(caps["result"]?["precision"]?["default"], "bf16")
        let bf16 = try generate(client, id: 2)
        XCTAssertEqual(bf16.precision, "bf16")
        XCTAssertEqual(bf16.image, asked.image, "a bf16 daemon computes what a bf16 request on an fp32 daemon does")
        let overridden = try generate(client, id: 3, ["precision": "fp32"])
        XCTAssertEqual(overridden.precision, "fp32")
        XCTAssertEqual(overridden.image, reference.image, "fp32 requests stay bit-identical on a bf16 daemon")
        let status = try client.call(id: .integer(4), method: "status", timeout: 10)
        let resident = status["result"]?["models_loaded"]?.arrayValue?.first
        XCTAssertEqual(resident?["precision"], "bf16", "\(status)")
        // Loaded with bf16 as the default, the bf16 weight copies are made at load and counted in its bytes.
        XCTAssertGreaterThan(resident?["bytes"]?.intValue ?? 0, fp32Bytes, "\(status)")
    }

    func testBadPrecisionValuesAreRefused() throws {
        let dir = try TempDir()
        let daemon = try startDaemon([], dir: dir)
        defer { daemon.stop() }
        let client = try daemon.connect()
        for (id, bad) in [(Int64(1), JSONValue.string("fp16")), (2, .integer(16)), (3, .string("BF16"))] {
            try client.request(id, "generate", common.merging(["precision": bad]) { _, new in new })
            let response = try client.collect(id: .integer(id), timeout: 30).response
            XCTAssertEqual(response["error"]?["code"]?.intValue, -32602, "\(response)")
            XCTAssertEqual(response["error"]?["data"]?["field"]?.stringValue, "precision", "\(response)")
        }
        let upscale = try client.call(id: .integer(4), method: "upscale",
                                      params: ["image": ["path": "/nonexistent.png"], "scale": 2,
                                               "refine": ["model": "tiny", "precision": "half"]], timeout: 30)
        XCTAssertEqual(upscale["error"]?["code"]?.intValue, -32602, "\(upscale)")
        XCTAssertTrue(upscale["error"]?["data"]?["field"]?.stringValue?.contains("precision") == true, "\(upscale)")
        // The daemon serves the next request.
        XCTAssertEqual(try generate(client, id: 5).precision, "fp32")
    }

    /// `auto` on this CPU: bf16 only where the start-up benchmark measured it faster (no AMX tile kernel exists).
    func testAutoReportsItsMeasurement() throws {
        let dir = try TempDir()
        let daemon = try startDaemon(["--precision", "auto"], dir: dir)
        defer { daemon.stop() }
        let client = try daemon.connect()
        let precision = try XCTUnwrap(client.call(id: .integer(1), method: "capabilities", timeout: 10)["result"]?["precision"])
        XCTAssertEqual(precision["setting"], "auto")
        let chosen = try XCTUnwrap(precision["auto"]?.stringValue)
        XCTAssertEqual(precision["default"]?.stringValue, chosen)
        if precision["bf16_hardware"] == "none" {
            XCTAssertEqual(chosen, "fp32", "no bf16 instructions: fp32")
        } else {
            let fp32 = try XCTUnwrap(precision["benchmark"]?["fp32_seconds"]?.doubleValue)
            let bf16 = try XCTUnwrap(precision["benchmark"]?["bf16_seconds"]?.doubleValue)
            XCTAssertEqual(chosen, bf16 * 1.1 < fp32 ? "bf16" : "fp32", "\(precision)")
        }
        XCTAssertEqual(try generate(client, id: 2).precision?.stringValue, chosen)
    }
}

extension StartupConfigTests {
    func testUnknownPrecisionValueIsRefused() throws {
        let dir = try TempDir()
        let message = try refusedStart(["--socket", dir.file("d.sock"), "--precision", "fp16"])
        XCTAssertTrue(message.contains("--precision fp16") && message.contains("fp32, bf16, auto"), message)
    }
}
