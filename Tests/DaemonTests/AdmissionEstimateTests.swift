import DiffusionProtocol
import Foundation
import Imaging
import StrictJSON
import XCTest

/// The admission estimate counts what a generation job adds beyond its model: ControlNets (`control`),
/// T2I-Adapters (`adapters`), LoRA patched copies (`loras` and `<lora:…>` tags) and an input image's own size
/// (img2img without width/height), each from headers only. A request that fits without them is refused with them.
final class AdmissionEstimateTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures").path
    static let controlNetFile = fixtures + "/controlnet/models/sd1-a/diffusion_pytorch_model.safetensors"
    static let adapterFile = fixtures + "/t2i_adapter/sd1-full/diffusion_pytorch_model.safetensors"
    static let loraFile = fixtures + "/lora/loras/sd1_full.safetensors"

    func startDaemon(budget: Int, dir: TempDir) throws -> DaemonProcess {
        let models = dir.file("models-\(budget)")
        let fm = FileManager.default
        try fm.createDirectory(atPath: models + "/t2i_adapter", withIntermediateDirectories: true)
        try fm.createSymbolicLink(atPath: models + "/tiny", withDestinationPath: GenerateOperationTests.sd1Folder)
        try fm.createSymbolicLink(atPath: models + "/controlnet", withDestinationPath: Self.fixtures + "/controlnet/models")
        try fm.createSymbolicLink(atPath: models + "/t2i_adapter/lineart", withDestinationPath: Self.fixtures + "/t2i_adapter/sd1-full")
        try fm.createSymbolicLink(atPath: models + "/loras", withDestinationPath: Self.fixtures + "/lora/loras")
        return try DaemonProcess(arguments: ["--models", models, "--memory-budget", String(budget)], withChecksumPlugin: false, dir: dir)
    }

    static func fileSize(_ path: String) throws -> Int {
        try XCTUnwrap((try FileManager.default.attributesOfItem(atPath: path))[.size] as? Int)
    }

    func testEstimateCountsControlsAdaptersLoRAsAndTheInputImage() throws {
        let dir = try TempDir()
        let small = dir.file("small.png"), large = dir.file("large.png")
        try VipsImage(planarRGB: PlanarRGB(width: 16, height: 16, values: [Float](repeating: 0.1, count: 3 * 16 * 16)))
            .write(to: small, overwrite: false)
        try VipsImage(planarRGB: PlanarRGB(width: 1024, height: 768, values: [Float](repeating: 0.1, count: 3 * 1024 * 768)))
            .write(to: large, overwrite: false)
        let base: [String: JSONValue] = ["model": "tiny", "prompt": "a fox", "steps": 1, "seed": 1, "width": 16, "height": 16,
                                         "output": ["format": "png"]]
        var controlled = base
        controlled["control"] = [["model": "sd1-a", "image": ["path": .string(small)]]]
        var adapted = base
        adapted["adapters"] = [["model": "lineart", "image": ["path": .string(small)]]]
        var structured = base
        structured["loras"] = [["name": "sd1_full"]]
        var tagged = base
        tagged["prompt"] = "a fox <lora:sd1_full:0.7>"
        var smallInput = base
        smallInput["width"] = nil; smallInput["height"] = nil
        smallInput["image"] = ["path": .string(small)]
        smallInput["strength"] = 1
        var largeInput = smallInput
        largeInput["image"] = ["path": .string(large)]
        let requests: [(String, String, [String: JSONValue])] = [
            ("base", "generate", base), ("control", "generate", controlled), ("adapter", "generate", adapted),
            ("loras", "generate", structured), ("tag", "generate", tagged),
            ("small input", "img2img", smallInput), ("large input", "img2img", largeInput),
        ]

        // A 1-byte budget refuses every job, and the refusal carries each estimate.
        var estimates: [String: Int] = [:]
        do {
            let daemon = try startDaemon(budget: 1, dir: dir)
            defer { daemon.stop() }
            let client = try daemon.connect()
            for (i, (label, method, params)) in requests.enumerated() {
                try client.request(Int64(i + 1), method, params)
                let reply = try client.collect(id: .integer(Int64(i + 1)), timeout: 30).response
                XCTAssertEqual(reply.errorCode, RPCErrorCode.outOfMemoryBudget, "\(label): \(reply)\n\(daemon.log)")
                estimates[label] = reply["error"]?["data"]?["estimated_bytes"]?.intValue
            }
        }
        let baseBytes = try XCTUnwrap(estimates["base"])
        func delta(_ label: String) throws -> Int { try XCTUnwrap(estimates[label], label) - baseBytes }
        // ControlNet and T2I-Adapter: their float32 weights (the fixtures are fp32 safetensors: the file less
        // its header) plus residuals/features and the picture at 16×16, which are a few hundred KB at most.
        let controlWeights = try Self.fileSize(Self.controlNetFile), adapterWeights = try Self.fileSize(Self.adapterFile)
        XCTAssertGreaterThan(try delta("control"), controlWeights - 16 << 10, "\(estimates)")
        XCTAssertLessThan(try delta("control"), controlWeights + 1 << 20, "\(estimates)")
        XCTAssertGreaterThan(try delta("adapter"), adapterWeights - 16 << 10, "\(estimates)")
        XCTAssertLessThan(try delta("adapter"), adapterWeights + 1 << 20, "\(estimates)")
        // A LoRA: its own tensors and the patched copies of the weights it touches (more than the file itself,
        // less than the whole model), the same for a tag as for the structured entry.
        XCTAssertGreaterThan(try delta("loras"), try Self.fileSize(Self.loraFile), "\(estimates)")
        XCTAssertLessThan(try delta("loras"), baseBytes, "\(estimates)")
        XCTAssertEqual(estimates["tag"], estimates["loras"])
        // img2img without a size works at the input's: 1024×768 costs its decoded pixels (8-bit and float32)
        // and the activations of that size, far above 16×16.
        XCTAssertGreaterThan(try delta("large input") - delta("small input"), 1024 * 768 * 3 * 5, "\(estimates)")

        // A budget the base request fits with room for none of the additions: each addition is refused at
        // once, and the daemon runs what fits.
        let additions = try ["control", "adapter", "loras"].map(delta)
        let budget = baseBytes + (additions.min() ?? 0) / 2
        let daemon = try startDaemon(budget: budget, dir: dir)
        defer { daemon.stop() }
        let client = try daemon.connect()
        for (i, (label, method, params)) in requests.enumerated() {
            let id = Int64(100 + i)
            let started = Date()
            try client.request(id, method, params)
            let reply = try client.collect(id: .integer(id), timeout: 120).response
            if label == "base" || label == "small input" {
                XCTAssertNil(reply["error"], "\(label) fits \(budget): \(reply)\n\(daemon.log)")
            } else {
                XCTAssertEqual(reply.errorCode, RPCErrorCode.outOfMemoryBudget, "\(label) under \(budget): \(reply)")
                XCTAssertEqual(reply["error"]?["data"]?["budget_bytes"]?.intValue, budget)
                XCTAssertLessThan(Date().timeIntervalSince(started), 2, "\(label) refused at once")
            }
        }
    }
}
