import Engine
import Foundation
import Models
import XCTest

/// The admission estimate's inputs: a model's footprint read from its files, without loading, must agree with the
/// loaded model in every layout, and the working estimate must grow with size and batch.
final class MemoryFootprintTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path
    static let sd1 = root + "/Tests/Fixtures/sd/sd1"

    func testStableDiffusionFootprintFromFilesMatchesTheLoadedModel() throws {
        let loaded = try LoadedModel.load(name: "tiny", path: Self.sd1 + "/diffusers")
        for path in [Self.sd1 + "/diffusers", Self.sd1 + "/single.safetensors", Self.sd1 + "/single.ckpt"] {
            let f = try StableDiffusionFootprint.read(path: path)
            XCTAssertEqual(f.unetChannels, loaded.networks.unet.config.blockOutChannels, path)
            XCTAssertEqual(f.vaeChannels, loaded.networks.vae.config.blockOutChannels, path)
            XCTAssertEqual(f.latentChannels, loaded.networks.vae.config.latentChannels, path)
            // Every stored tensor counts (buffers, EMA copies): at least the loaded weights, never far above.
            XCTAssertGreaterThanOrEqual(f.weightBytes, loaded.bytes, path)
            XCTAssertLessThan(f.weightBytes, loaded.bytes * 2, path)
        }
        XCTAssertThrowsError(try StableDiffusionFootprint.read(path: Self.sd1 + "/missing"))
        XCTAssertThrowsError(try StableDiffusionFootprint.read(path: Self.sd1 + "/reference.safetensors"))
    }

    func testUpscalerFootprintFromFilesMatchesTheLoadedNetwork() throws {
        for path in [Self.root + "/models/realesrgan/realesr-animevideov3-x4.param", Self.root + "/models/realesrgan/realesrgan-x4plus.param",
                     Self.root + "/Tests/Fixtures/upscale/tiny_compact.safetensors"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: path), "\(path): run ./scripts/setup.sh")
            let read = try UpscalerFootprint.read(path: path)
            let network = try UpscalerModel.load(path: path).network
            var loaded = UpscalerFootprint(network: network)
            XCTAssertEqual(read.receptiveRadius, network.receptiveRadius, path)
            // ncnn stores some weights as fp16: the loaded float32 network is what counts, the header count is the same.
            loaded.weightBytes = read.weightBytes
            XCTAssertEqual(read, loaded, path)
            XCTAssertEqual(read.weightBytes, network.parameterCount * 4, path)
        }
    }

    func testWorkingEstimateGrowsWithSizeBatchAndGuidance() throws {
        let f = try StableDiffusionFootprint.read(path: Self.sd1 + "/diffusers")
        let base = GenerationMemory.workingBytes(f, width: 64, height: 64, batch: 1, guided: true)
        XCTAssertGreaterThan(GenerationMemory.workingBytes(f, width: 128, height: 128, batch: 1, guided: true), 3 * base)
        XCTAssertGreaterThan(GenerationMemory.workingBytes(f, width: 64, height: 64, batch: 4, guided: true), 3 * base)
        XCTAssertLessThan(GenerationMemory.workingBytes(f, width: 64, height: 64, batch: 1, guided: false), base)
        // Absurd requests saturate instead of trapping.
        XCTAssertGreaterThan(GenerationMemory.workingBytes(f, width: 1 << 30, height: 1 << 30, batch: 1 << 20, guided: true), 1 << 50)
    }
}
