import Engine
import Foundation
import Models
import Sampling
import Tensor
import XCTest

/// The bf16 weight copies a bf16 job makes (`BF16PackedWeight`, kept with the network) are counted for every kind
/// that makes them: a checkpoint's networks, a ControlNet, a T2I-Adapter and the networks a LoRA set rebuilt. The
/// host's resident bytes (the budget, `status`) rise by exactly the copies made, and what the footprint (the
/// admission estimate's source) said a bf16 job would still make is what the job then made.
final class BF16ResidentCopiesTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("bf16-copies-\(UUID().uuidString)")
        let fm = FileManager.default, fixtures = PipelineFixtures.root
        try fm.createDirectory(at: dir.appendingPathComponent("t2i_adapter"), withIntermediateDirectories: true)
        try fm.createSymbolicLink(atPath: dir.appendingPathComponent("tiny1").path, withDestinationPath: PipelineFixtures.modelFolder("sd1"))
        try fm.createSymbolicLink(atPath: dir.appendingPathComponent("controlnet").path,
                                  withDestinationPath: fixtures.appendingPathComponent("controlnet/models").path)
        try fm.createSymbolicLink(atPath: dir.appendingPathComponent("t2i_adapter/full").path,
                                  withDestinationPath: fixtures.appendingPathComponent("t2i_adapter/sd1-full").path)
        try fm.createSymbolicLink(atPath: dir.appendingPathComponent("loras").path,
                                  withDestinationPath: fixtures.appendingPathComponent("lora/loras").path)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: dir)
    }

    func info(_ host: ModelHost, _ kind: ModelKind) throws -> ResidentModelInfo {
        try XCTUnwrap(host.residentModels().first { $0.key.kind == kind })
    }

    func testControlNetCopiesAreCountedAndWereEstimated() throws {
        let host = ModelHost(directory: dir.path)
        let control = try host.controlNet(named: "sd1-a")
        let net = control.network
        let before = try info(host, .controlnet).bytes, hostBefore = host.residentBytes
        XCTAssertEqual(net.bf16PackBytes, 0, "a daemon computing in fp32 narrows nothing at load")
        let pending = try host.controlNetFootprint(named: "sd1-a").bf16PendingBytes
        XCTAssertGreaterThan(pending, 0)
        XCTAssertLessThanOrEqual(pending, net.parameterCount * 2, "2 bytes per value of the weight matrices at most")

        let f = net.hintDownscale
        let latents = Tensor(shape: [1, 4, 8, 8], values: (0 ..< 256).map { Float($0 % 7) / 7 - 0.5 })
        let image = Tensor(shape: [1, net.hintChannels, 8 * f, 8 * f], values: [Float](repeating: 0.5, count: net.hintChannels * 64 * f * f))
        let conditioning = UNetConditioning(context: Tensor(shape: [1, 77, net.contextDim], values: [Float](repeating: 0.1, count: 77 * net.contextDim)))
        _ = try ComputePrecision.$current.withValue(.bf16) {
            try net(latents: latents, timestep: 500, conditioning: conditioning, image: image, scale: 1, guessMode: false)
        }
        XCTAssertEqual(net.bf16PackBytes, pending, "the job made what the estimate said it would")
        XCTAssertEqual(try info(host, .controlnet).bytes, before + pending)
        XCTAssertEqual(host.residentBytes, hostBefore + pending)
        let after = try host.controlNetFootprint(named: "sd1-a")
        XCTAssertEqual(after.bf16PendingBytes, 0, "nothing left to narrow")
        XCTAssertEqual(after.weightBytes, before + pending)
    }

    func testT2IAdapterCopiesAreCountedAndWereEstimated() throws {
        let host = ModelHost(directory: dir.path)
        let adapter = try host.t2iAdapter(named: "full")
        let before = try info(host, .t2iAdapter).bytes
        let pending = try host.t2iAdapterFootprint(named: "full").bf16PendingBytes
        XCTAssertGreaterThan(pending, 0)
        let side = adapter.config.downscaleFactor * 16, channels = adapter.config.inChannels
        let image = Tensor(shape: [1, channels, side, side], values: (0 ..< channels * side * side).map { Float($0 % 11) / 11 })
        _ = try ComputePrecision.$current.withValue(.bf16) { try adapter.features(image) }
        XCTAssertEqual(adapter.bf16PackBytes, pending)
        XCTAssertEqual(try info(host, .t2iAdapter).bytes, before + pending)
        XCTAssertEqual(try host.t2iAdapterFootprint(named: "full").bf16PendingBytes, 0)
    }

    /// A network a LoRA set rebuilt uses the base's bf16 slots for the weights it shares with it, so a bf16 job on
    /// the patched variant narrows only the patched weights anew (counted with the variant's patched bytes) and
    /// every other weight once, as the base's (counted with the base), the whole network exactly once.
    func testLoRAPatchedNetworksCopiesCountWithTheKeptSet() throws {
        let host = ModelHost(directory: dir.path)
        let sd1 = try host.stableDiffusion(named: "tiny1")
        let adapted = try sd1.applying([LoRARequest(name: "sd1_locon", weight: 0.7, field: "loras[0]")],
                                       directory: LoRADirectory(modelsDirectory: dir.path))
        XCTAssertEqual(try info(host, .stableDiffusion).patchedBytes, adapted.patchedBytes)
        let bytesBefore = try info(host, .stableDiffusion).bytes
        let unet = adapted.model.networks.unet
        let context = Tensor(shape: [1, 77, unet.contextDim], values: [Float](repeating: 0.2, count: 77 * unet.contextDim))
        let latents = Tensor(shape: [1, 4, 8, 8], values: (0 ..< 256).map { Float($0 % 5) / 5 - 0.4 })
        _ = try ComputePrecision.$current.withValue(.bf16) { try unet.forward(latents: latents, timestep: 300, context: context) }
        let base = sd1.networks.unet
        let own = unet.bf16PackBytes, shared = base.bf16PackBytes
        XCTAssertGreaterThan(own, 0, "the patched weights got copies of their own")
        XCTAssertEqual(own, unet.bf16PlannedBytes, "all of them")
        XCTAssertLessThanOrEqual(own, adapted.patchedBytes / 2, "half the float32 patched copies at most (biases have none)")
        XCTAssertGreaterThan(shared, 0, "the weights it did not patch used the base's copies")
        XCTAssertEqual(own + shared, base.bf16PlannedBytes, "the UNet was narrowed exactly once")
        XCTAssertEqual(adapted.bf16PackBytes, own)
        let now = try info(host, .stableDiffusion)
        XCTAssertEqual(now.patchedBytes, adapted.patchedBytes + own)
        XCTAssertEqual(now.bytes, bytesBefore + own + shared)
        // Running the base in bf16 now narrows only what the variant did not share.
        _ = try ComputePrecision.$current.withValue(.bf16) { try base.forward(latents: latents, timestep: 300, context: context) }
        XCTAssertEqual(base.bf16PackBytes, base.bf16PlannedBytes)
        XCTAssertEqual(try info(host, .stableDiffusion).bytes, bytesBefore + own + base.bf16PlannedBytes)
        sd1.loraCache.clear()
        XCTAssertEqual(try info(host, .stableDiffusion).bytes, bytesBefore - adapted.patchedBytes + base.bf16PlannedBytes,
                       "dropping the set frees its own copies, the base keeps its")
    }

    /// A checkpoint's copies: a bf16 run makes what the footprint said was pending (text encoder and UNet; the
    /// force_upcast VAE computes in fp32 and makes none), and afterwards nothing is pending.
    func testCheckpointCopiesWereEstimated() throws {
        let host = ModelHost(directory: dir.path)
        let notLoaded = try host.stableDiffusionFootprint(named: "tiny1")
        let model = try host.stableDiffusion(named: "tiny1")
        let pending = try host.stableDiffusionFootprint(named: "tiny1").bf16PendingBytes
        XCTAssertGreaterThan(pending, 0)
        XCTAssertGreaterThanOrEqual(notLoaded.bf16PendingBytes, pending, "the header-only bound is an upper bound")
        XCTAssertLessThan(notLoaded.bf16PendingBytes, pending + pending / 4, "and a close one (biases and norms only)")
        XCTAssertTrue(model.networks.vae.config.forceUpcast)
        var request = GenerationRequest(prompt: "a fox")
        request.sampler = try SamplerChoice.parse(sampler: "euler")
        request.steps = 1
        request.width = 32
        request.height = 32
        let before = host.residentBytes
        _ = try ComputePrecision.$current.withValue(.bf16) { try StableDiffusionPipeline(model: model).run(request) }
        XCTAssertEqual(model.bf16PackBytes, pending)
        XCTAssertEqual(model.networks.vae.bf16PackBytes, 0)
        XCTAssertEqual(host.residentBytes, before + pending)
        XCTAssertEqual(try host.stableDiffusionFootprint(named: "tiny1").bf16PendingBytes, 0)
    }
}
