import DiffusionProtocol
import Foundation
import Imaging
import StrictJSON
import XCTest

extension AdmissionEstimateTests {
    /// A bf16 job keeps bf16 copies of the weights it narrows: its estimate exceeds the same fp32 job's by the
    /// copies not made yet, 2 bytes per stored value, for the checkpoint (text encoder and UNet; the tiny VAE says
    /// force_upcast and stays fp32), each ControlNet and T2I-Adapter, a LoRA set's patched weights, and the checkpoint
    /// of `upscale`'s `refine`.
    func testBF16EstimateCountsTheCopiesToMake() throws {
        let dir = try TempDir()
        let base: [String: JSONValue] = ["model": "tiny", "prompt": "a fox", "steps": 1, "seed": 1, "width": 16, "height": 16,
                                         "output": ["format": "png"]]
        let hint = dir.file("hint.png")
        try VipsImage(planarRGB: PlanarRGB(width: 16, height: 16, values: [Float](repeating: 0.1, count: 3 * 16 * 16)))
            .write(to: hint, overwrite: false)
        var controlled = base
        controlled["control"] = [["model": "sd1-a", "image": ["path": .string(hint)]]]
        var adapted = base
        adapted["adapters"] = [["model": "lineart", "image": ["path": .string(hint)]]]
        var patched = base
        patched["loras"] = [["name": "sd1_full"]]
        var estimates: [String: Int] = [:]
        let daemon = try startDaemon(budget: 1, dir: dir)
        defer { daemon.stop() }
        let client = try daemon.connect()
        var id: Int64 = 0
        let refined: [String: JSONValue] = ["image": ["path": .string(hint)], "model": "lanczos3", "scale": 2,
                                            "refine": ["model": "tiny", "strength": 0.5, "tile": 32, "overlap": 8]]
        for (label, params) in [("base", base), ("control", controlled), ("adapter", adapted), ("lora", patched), ("refine", refined)] {
            for precision in ["fp32", "bf16"] {
                var request = params
                let method = label == "refine" ? "upscale" : "generate"
                if method == "upscale" {
                    request["refine"] = .object((request["refine"]?.objectValue ?? [:]).merging(["precision": .string(precision)]) { $1 })
                } else {
                    request["precision"] = .string(precision)
                }
                id += 1
                try client.request(id, method, request)
                let reply = try client.collect(id: .integer(id), timeout: 30).response
                XCTAssertEqual(reply.errorCode, RPCErrorCode.outOfMemoryBudget, "\(label) \(precision): \(reply)\n\(daemon.log)")
                estimates[label + "/" + precision] = reply["error"]?["data"]?["estimated_bytes"]?.intValue
            }
        }
        func extra(_ label: String) throws -> Int {
            try XCTUnwrap(estimates[label + "/bf16"], label) - XCTUnwrap(estimates[label + "/fp32"], label)
        }
        // The fixtures are fp32 safetensors: a file less its header is 4 bytes per value, its bf16 copies half that.
        let sd1 = GenerateOperationTests.sd1Folder
        let networks = try Self.fileSize(sd1 + "/text_encoder/model.safetensors")
            + Self.fileSize(sd1 + "/unet/diffusion_pytorch_model.safetensors")
        let checkpoint = try extra("base")
        XCTAssertLessThanOrEqual(checkpoint, networks / 2, "\(estimates)")
        XCTAssertGreaterThan(checkpoint, networks / 2 - 32 << 10, "\(estimates)")
        let control = try extra("control") - checkpoint, adapter = try extra("adapter") - checkpoint
        let controlFile = try Self.fileSize(Self.controlNetFile), adapterFile = try Self.fileSize(Self.adapterFile)
        XCTAssertLessThanOrEqual(control, controlFile / 2, "\(estimates)")
        XCTAssertGreaterThan(control, controlFile / 2 - 16 << 10, "\(estimates)")
        XCTAssertLessThanOrEqual(adapter, adapterFile / 2, "\(estimates)")
        XCTAssertGreaterThan(adapter, adapterFile / 2 - 16 << 10, "\(estimates)")
        // A LoRA set's patched float32 copies get bf16 copies of half their size; the rebuilt networks share the
        // base's copies of every other weight (already in the checkpoint's share).
        let patchedCopies = try XCTUnwrap(estimates["lora/fp32"]) - XCTUnwrap(estimates["base/fp32"])
        XCTAssertGreaterThan(patchedCopies, 0)
        XCTAssertEqual(try extra("lora") - checkpoint, patchedCopies / 2, "\(estimates)")
        // upscale's refine in bf16 makes the checkpoint's copies too.
        XCTAssertEqual(try extra("refine"), checkpoint, "\(estimates)")
    }
}
