import Foundation
import Models
import Tensor
import Weights
import XCTest

/// Diffusers folders as people have them: fp16 weight variants and pre-0.14 VAE attention names.
final class FolderVariantTests: XCTestCase {
    func testFP16VariantIsLoadedAndCloseToFloat32() throws {
        let reference = try SDFixtures.reference("sd1")
        let full = try ModelFiles.load(path: SDFixtures.path("sd1", "diffusers"))
        let half = try ModelFiles.load(path: SDFixtures.path("sd1", "diffusers"), options: CheckpointOptions(variant: "fp16"))
        let latents = try reference.tensor("unet.latents")
        let timesteps = try reference.tensor("unet.timesteps").scalars
        let context = try reference.tensor("unet.context")
        let fromFull = try full.unet.forward(latents: latents, timesteps: timesteps, context: context)
        let fromHalf = try half.unet.forward(latents: latents, timesteps: timesteps, context: context)
        let error = relativeError(fromHalf, fromFull)
        // The fp16 file holds the same weights rounded to 11 significant bits (relative step 2^-11 ≈ 4.9e-4);
        // through the network that stays well under 1e-2 but cannot be 0 — which proves the variant was read.
        XCTAssertGreaterThan(error, 0, "the fp16 variant should differ from float32 by rounding")
        XCTAssertLessThanOrEqual(error, 1e-2, "fp16-rounded weights: relative error \(error)")
    }

    func testLegacyVAEAttentionNamesLoad() throws {
        // Rename today's attention tensors to diffusers' pre-0.14 names, as many Hub folders still store them.
        let temp = FileManager.default.temporaryDirectory.appendingPathComponent("models-legacy-vae-\(getpid())")
        try? FileManager.default.removeItem(at: temp)
        try FileManager.default.copyItem(atPath: SDFixtures.path("sd1", "diffusers"), toPath: temp.path)
        defer { try? FileManager.default.removeItem(at: temp) }
        let vaeFile = temp.appendingPathComponent("vae/diffusion_pytorch_model.safetensors").path
        let source = try InMemorySource(copying: try SafeTensorsFile(path: vaeFile))
        let legacy = ["to_q": "query", "to_k": "key", "to_v": "value", "to_out.0": "proj_attn"]
        var writer = SafeTensorsWriter()
        var renamed = 0
        for name in source.names {
            var stored = name
            for (new, old) in legacy where name.contains(".attentions.0.\(new).") {
                stored = name.replacingOccurrences(of: ".attentions.0.\(new).", with: ".attentions.0.\(old).")
                renamed += 1
            }
            try writer.add(stored, try source.tensor(name))
        }
        XCTAssertEqual(renamed, 16, "encoder and decoder: 4 projections × weight/bias")
        try FileManager.default.removeItem(atPath: vaeFile)
        try writer.write(to: vaeFile)
        let vae = try ModelFiles.load(path: temp.path).vae
        // Same weights under old names: the float32 reference tolerance, ≤ 1e-4 relative.
        try ReferenceChecks.vae(vae, try SDFixtures.reference("sd1"), family: "sd1 legacy VAE names", tolerance: 1e-4)
    }
}
