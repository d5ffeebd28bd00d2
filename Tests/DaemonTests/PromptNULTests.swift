import DiffusionProtocol
import Foundation
import Imaging
import StrictJSON
import XCTest

/// A NUL (U+0000) in a text member is refused when the params are checked (-32602 naming the member), not
/// after the sampling when the PNG text is written; the same request without it then runs.
final class PromptNULTests: XCTestCase {
    func testNULInAnyPromptIsRefusedUpFrontAndTheDaemonServesOn() throws {
        let dir = try TempDir()
        let models = dir.file("models")
        try FileManager.default.createDirectory(atPath: models, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: models + "/tiny", withDestinationPath: GenerateOperationTests.sd1Folder)
        let daemon = try DaemonProcess(arguments: ["--models", models], withChecksumPlugin: false, dir: dir)
        defer { daemon.stop() }
        let client = try daemon.connect()
        let picture = daemon.dir.file("in.png")
        try VipsImage(planarRGB: PlanarRGB(width: 16, height: 16, values: [Float](repeating: 0.25, count: 3 * 16 * 16)))
            .write(to: picture, overwrite: false)
        let base: [String: JSONValue] = ["model": "tiny", "prompt": "a fox", "steps": 2, "seed": 3, "width": 16, "height": 16,
                                         "output": ["format": "png"]]
        var id: Int64 = 0
        let cases: [(method: String, member: String)] = [
            ("generate", "prompt"), ("generate", "negative_prompt"), ("generate", "prompt_2"), ("generate", "negative_prompt_2"),
            ("img2img", "prompt"), ("inpaint", "negative_prompt"),
        ]
        for (method, member) in cases {
            var params = base
            if method != "generate" { params["image"] = ["path": .string(picture)] }
            if method == "inpaint" { params["mask"] = ["path": .string(picture)] }
            for text in ["a\u{0}b", "\u{0}", "fox <lora:x:1>\u{0}"] {
                params[member] = .string(text)
                id += 1
                let started = Date()
                try client.request(id, method, params)
                let (reply, notes) = try client.collect(id: .integer(id), timeout: 60)
                XCTAssertEqual(reply.errorCode, RPCErrorCode.invalidParams, "\(method).\(member): \(reply)")
                XCTAssertEqual(reply["error"]?["data"]?["field"], .string(member), "\(reply)")
                XCTAssertEqual(reply["error"]?["message"]?.stringValue,
                               "invalid params: \(member) must not contain a NUL character (U+0000)")
                XCTAssertTrue(notes.isEmpty, "refused before queueing: no started or progress notification, got \(notes)")
                XCTAssertLessThan(Date().timeIntervalSince(started), 5)
            }
        }
        // The same requests without the NUL run, and the text reaches the PNG.
        var fine = base
        fine["negative_prompt"] = "a b"
        id += 1
        try client.request(id, "generate", fine)
        let reply = try client.collect(id: .integer(id), timeout: 120).response
        XCTAssertNil(reply["error"], "\(reply)\n\(daemon.log)")
        let parameters = try XCTUnwrap(reply["result"]?["images"]?.arrayValue?.first?["parameters"]?.stringValue)
        XCTAssertTrue(parameters.hasPrefix("a fox\nNegative prompt: a b\n"), parameters)
    }
}
