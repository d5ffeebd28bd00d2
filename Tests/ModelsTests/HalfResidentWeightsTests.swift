import Models
import Tensor
import Weights
import XCTest

/// Half-precision resident weights: networks loaded from an fp16 checkpoint keep their weight matrices in
/// 16 bits and compute exactly (bit for bit) what the same networks compute with the weights widened to
/// float32 at load, as before.
final class HalfResidentWeightsTests: XCTestCase {
    /// What reading an fp16 .safetensors file hands the loader: owned float32 copies of fp16 values.
    struct FP16Checkpoint: TensorSource {
        let base: any TensorSource
        var names: [String] { base.names }
        func shape(of name: String) -> [Int]? { base.shape(of: name) }
        func tensor(_ name: String) throws -> Tensor {
            let value = try base.tensor(name)
            guard let narrow = value.storage.narrowed(to: .float16, exactOnly: false) else { return value }
            return Tensor(shape: value.shape, storage: narrow.widenedToFloat32())
        }
    }

    override func tearDown() { WeightResidency.processDefault = .stored }

    func source(_ family: String, _ component: String) throws -> FP16Checkpoint {
        FP16Checkpoint(base: try SafeTensorsFile(path: SDFixtures.path(family, "diffusers/\(component)/"
            + (component == "text_encoder" ? "model.safetensors" : "diffusion_pytorch_model.safetensors"))))
    }

    func load<N>(_ residency: WeightResidency, _ build: () throws -> N) rethrows -> N {
        WeightResidency.processDefault = residency
        defer { WeightResidency.processDefault = .stored }
        return try build()
    }

    func assertBitIdentical(_ a: Tensor, _ b: Tensor, _ what: String) {
        XCTAssertEqual(a.shape, b.shape, what)
        XCTAssertEqual(a.scalars.map(\.bitPattern), b.scalars.map(\.bitPattern), "\(what): not bit-identical")
    }

    func testUNetVAEAndTextEncoderFromFP16AreBitIdenticalToWidenedWeights() throws {
        for family in SDFixtures.families {
            let reference = try SDFixtures.reference(family)
            let models = try ModelFiles.load(path: SDFixtures.path(family, "diffusers"))

            let unetSource = try source(family, "unet")
            let halfUNet = try load(.stored) { try UNet(config: models.unet.config, weights: unetSource) }
            let wideUNet = try load(.fp32) { try UNet(config: models.unet.config, weights: unetSource) }
            XCTAssertLessThan(halfUNet.residentBytes, wideUNet.residentBytes * 6 / 10, "\(family): UNet matrices not kept in 16 bits")
            XCTAssertEqual(wideUNet.residentBytes, wideUNet.parameterCount * 4)
            let latents = try reference.tensor("unet.latents"), context = try reference.tensor("unet.context")
            let timesteps = try reference.tensor("unet.timesteps").scalars
            assertBitIdentical(try halfUNet.forward(latents: latents, timesteps: timesteps, context: context),
                               try wideUNet.forward(latents: latents, timesteps: timesteps, context: context), "\(family) UNet")

            let vaeSource = try source(family, "vae")
            let halfVAE = try load(.stored) { try VAE(config: models.vae.config, weights: vaeSource) }
            let wideVAE = try load(.fp32) { try VAE(config: models.vae.config, weights: vaeSource) }
            XCTAssertLessThan(halfVAE.residentBytes, wideVAE.residentBytes * 6 / 10)
            let image = try reference.tensor("vae.image")
            assertBitIdentical(try halfVAE.encode(image).0, try wideVAE.encode(image).0, "\(family) VAE encode")

            let textSource = try source(family, "text_encoder")
            let config = models.textEncoders[0].encoder.config
            let halfText = try load(.stored) { try CLIPTextEncoder(config: config, weights: textSource) }
            let wideText = try load(.fp32) { try CLIPTextEncoder(config: config, weights: textSource) }
            XCTAssertLessThan(halfText.residentBytes, wideText.residentBytes)
            let ids = try SDFixtures.inputIDs(reference)
            assertBitIdentical(try halfText.encode(ids: ids), try wideText.encode(ids: ids), "\(family) text encoder")
        }
    }

    /// A float32 checkpoint stays float32 (zero-copy) unless `half` is asked for, which then narrows it.
    func testFloat32FilesStayFloat32UnlessHalfIsAsked() throws {
        let family = SDFixtures.families[0]
        let models = try ModelFiles.load(path: SDFixtures.path(family, "diffusers"))
        let file = try SafeTensorsFile(path: SDFixtures.path(family, "diffusers/unet/diffusion_pytorch_model.safetensors"))
        let stored = try load(.stored) { try UNet(config: models.unet.config, weights: file) }
        XCTAssertEqual(stored.residentBytes, stored.parameterCount * 4)
        let half = try load(.half) { try UNet(config: models.unet.config, weights: file) }
        XCTAssertLessThan(half.residentBytes, stored.residentBytes * 6 / 10)
        let wide = try load(.fp32) { try UNet(config: models.unet.config, weights: file) }
        XCTAssertEqual(wide.residentBytes, stored.residentBytes, "fp32 files are float32 under both policies")

        // Narrowing is lossy but small: fp16 keeps 11 significant bits, so the noise prediction moves by about
        // 2^-11 relative (the UNet has no amplifying path at these weights), far from a broken conversion.
        let reference = try SDFixtures.reference(family)
        let latents = try reference.tensor("unet.latents"), context = try reference.tensor("unet.context")
        let timesteps = try reference.tensor("unet.timesteps").scalars
        let exact = try stored.forward(latents: latents, timesteps: timesteps, context: context).scalars
        let lossy = try half.forward(latents: latents, timesteps: timesteps, context: context).scalars
        XCTAssertEqual(exact.count, lossy.count)
        let difference = zip(exact, lossy).reduce(0.0) { $0 + Double($1.0 - $1.1) * Double($1.0 - $1.1) }
        let norm = exact.reduce(0.0) { $0 + Double($1) * Double($1) }
        let relative = (difference / max(norm, .leastNonzeroMagnitude)).squareRoot()
        XCTAssertGreaterThan(relative, 0, "half weights must actually be narrowed")
        XCTAssertLessThan(relative, 5e-3, "relative L2 error of fp16-narrowed weights")
    }
}
