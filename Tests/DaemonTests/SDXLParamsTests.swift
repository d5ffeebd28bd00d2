import DiffusionProtocol
import Foundation
import StrictJSON
import XCTest

/// The SDXL-only members on the wire: every generation operation accepts them, an SD 1.x/2.x model ignores
/// them and the result says which (`ignored`), a plain request's result has no `ignored` member.
final class SDXLParamsTests: XCTestCase {
    private func startDaemon() throws -> DaemonProcess {
        let dir = try TempDir()
        let models = dir.file("models")
        try FileManager.default.createDirectory(atPath: models, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: models + "/tiny", withDestinationPath: GenerateOperationTests.sd1Folder)
        return try DaemonProcess(arguments: ["--models", models], withChecksumPlugin: false, dir: dir)
    }

    private let sdxlMembers: [String: JSONValue] = [
        "negative_aesthetic_score": 2.5, "prompt_2": "an oil painting", "original_size": ["width": 1024, "height": 768],
        "crops_coords_top_left": ["x": 0, "y": 16], "negative_target_size": ["width": 512, "height": 512],
    ]

    func testSD1ModelListsTheSDXLMembersItIgnored() throws {
        let daemon = try startDaemon()
        defer { daemon.stop() }
        let client = try daemon.connect()
        var params: [String: JSONValue] = ["model": "tiny", "prompt": "x", "steps": 2, "width": 32, "height": 32, "seed": 1,
                                           "output": ["format": "png"]]
        try client.request(1, "generate", params)
        let plain = try client.collect(id: .integer(1), timeout: 120).response
        XCTAssertNotNil(plain["result"]?["images"], "\(plain)")
        XCTAssertNil(plain["result"]?["ignored"], "nothing ignored, no member")

        for (k, v) in sdxlMembers { params[k] = v }
        try client.request(2, "generate", params)
        let reply = try client.collect(id: .integer(2), timeout: 120).response
        XCTAssertNil(reply["error"], "\(reply)\n\(daemon.log)")
        // In the schema's member order.
        XCTAssertEqual(reply["result"]?["ignored"], ["prompt_2", "original_size", "crops_coords_top_left",
                                                     "negative_target_size", "negative_aesthetic_score"])
        // The same image: the SD1 conditioning did not see them.
        XCTAssertEqual(reply["result"]?["images"]?.arrayValue?.first?["base64"], plain["result"]?["images"]?.arrayValue?.first?["base64"])
    }

    func testImg2ImgAndInpaintAcceptTheMembersToo() throws {
        let daemon = try startDaemon()
        defer { daemon.stop() }
        let client = try daemon.connect()
        let image = daemon.dir.file("in.png")
        try client.request(1, "generate", ["model": "tiny", "prompt": "x", "steps": 1, "width": 32, "height": 32, "seed": 1,
                                           "output": ["path": .string(image)]])
        XCTAssertNil(try client.collect(id: .integer(1), timeout: 120).response["error"])
        var params: [String: JSONValue] = ["model": "tiny", "prompt": "x", "steps": 2, "seed": 1, "image": ["path": .string(image)],
                                           "output": ["format": "png"], "aesthetic_score": 7]
        try client.request(2, "img2img", params)
        let img2img = try client.collect(id: .integer(2), timeout: 120).response
        XCTAssertEqual(img2img["result"]?["ignored"], ["aesthetic_score"], "\(img2img)")
        params["mask"] = ["path": .string(image)]  // any grey image is a mask
        params["aesthetic_score"] = nil
        params["negative_prompt_2"] = "blurry"
        try client.request(3, "inpaint", params)
        let inpaint = try client.collect(id: .integer(3), timeout: 120).response
        XCTAssertEqual(inpaint["result"]?["ignored"], ["negative_prompt_2"], "\(inpaint)")
    }

    func testMalformedMembersAreRefusedByTheSchema() throws {
        let daemon = try startDaemon()
        defer { daemon.stop() }
        let client = try daemon.connect()
        for (id, bad) in [(1, ["original_size": ["width": 0, "height": 8]]), (2, ["crops_coords_top_left": ["x": 1]]),
                          (3, ["target_size": ["w": 8, "h": 8]]), (4, ["aesthetic_score": "high"])] as [(Int64, [String: JSONValue])] {
            var params: [String: JSONValue] = ["model": "tiny", "prompt": "x", "width": 32, "height": 32]
            for (k, v) in bad { params[k] = v }
            try client.request(id, "generate", params)
            XCTAssertEqual(try client.collect(id: .integer(id), timeout: 60).response.errorCode, RPCErrorCode.invalidParams, "\(bad)")
        }
    }
}
