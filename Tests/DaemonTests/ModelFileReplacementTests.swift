import DiffusionProtocol
import Foundation
import StrictJSON
import XCTest

/// A model file replaced by rename while the model is resident (an editor saving, a download finishing): the job
/// using the resident copy finishes with it unchanged, `models.load` picks up the new file (its files' identity
/// changed, even at the same size), and after `models.unload` the next load reads whatever is there then.
final class ModelFileReplacementTests: XCTestCase {
    /// `vae` with its decoder's output bias set to `bias`: the same size, a visibly different decode.
    static func vae(_ original: Data, decoderOutputBias bias: [Float]) throws -> Data {
        let headerLength = original.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        let header = try XCTUnwrap(try JSONSerialization.jsonObject(with: original.subdata(in: 8 ..< 8 + headerLength)) as? [String: Any])
        let tensor = try XCTUnwrap(header["decoder.conv_out.bias"] as? [String: Any])
        let offsets = try XCTUnwrap(tensor["data_offsets"] as? [Int])
        XCTAssertEqual(tensor["dtype"] as? String, "F32")
        XCTAssertEqual(offsets[1] - offsets[0], bias.count * 4)
        var data = original
        let start = 8 + headerLength + offsets[0]
        bias.withUnsafeBytes { data.replaceSubrange(start ..< start + $0.count, with: $0) }
        return data
    }

    func testModelFileReplacedByRenameWhileResident() throws {
        let dir = try TempDir()
        let models = dir.file("models")
        try FileManager.default.createDirectory(atPath: models, withIntermediateDirectories: false)
        let folder = models + "/tiny"
        try FileManager.default.copyItem(atPath: FaultFixtures.fixtures + "/sd/sd1/diffusers", toPath: folder)
        let vaeFile = folder + "/vae/diffusion_pytorch_model.safetensors"
        let original = try Data(contentsOf: URL(fileURLWithPath: vaeFile))
        let changed = try Self.vae(original, decoderOutputBias: [0.9, -0.9, 0.5])
        XCTAssertEqual(changed.count, original.count)
        /// Replaces the VAE file by rename, keeping its size and modification time.
        func replaceVAE(with data: Data) throws {
            let attributes = try FileManager.default.attributesOfItem(atPath: vaeFile)
            let temporary = folder + "/vae/.replacement"
            try data.write(to: URL(fileURLWithPath: temporary))
            try FileManager.default.setAttributes([.modificationDate: try XCTUnwrap(attributes[.modificationDate])], ofItemAtPath: temporary)
            XCTAssertEqual(rename(temporary, vaeFile), 0)
        }

        let daemon = try DaemonProcess(arguments: ["--models", models], withChecksumPlugin: false, dir: dir)
        defer { daemon.stop() }
        let client = try daemon.connect()
        var id: Int64 = 0
        func image(steps: Int = 2, whileRunning: (() throws -> Void)? = nil) throws -> String {
            id += 1
            try client.request(id, "generate", ["model": "tiny", "prompt": "a fox", "width": 16, "height": 16, "steps": JSONValue(steps),
                                                "seed": 3, "output": ["format": "png"]])
            if let whileRunning {
                // Sampling has begun: the job holds the model it looked up.
                while try client.waitFor(notification: "progress", id: .integer(id), timeout: 120)["params"]?["stage"] != "sampling" {}
                try whileRunning()
            }
            let reply = try client.collect(id: .integer(id), timeout: 300).response
            return try XCTUnwrap(reply["result"]?["images"]?.arrayValue?.first?["base64"]?.stringValue, "\(reply)\n\(daemon.log)")
        }

        let before = try image()
        let longBefore = try image(steps: 40)
        // The running job holds the resident copy: replacing the file under it changes nothing in its result.
        let longDuring = try image(steps: 40, whileRunning: { try replaceVAE(with: changed) })
        XCTAssertEqual(longDuring, longBefore, "the job running on the resident copy finished with it")

        let load = try client.call(id: .integer(100), method: "models.load", params: ["model": "tiny"], timeout: 120)
        XCTAssertNil(load["error"], "\(load)")
        let after = try image()
        XCTAssertNotEqual(after, before, "models.load read the new file (same size and modification time, new inode)")

        let unload = try client.call(id: .integer(101), method: "models.unload", params: ["model": "tiny"], timeout: 60)
        XCTAssertEqual(unload["result"]?["unloaded"], .bool(true))
        try replaceVAE(with: original)
        XCTAssertEqual(try image(), before, "the next load after the unload reads the file there now")
        try FaultFixtures.assertServes(daemon)
    }
}
