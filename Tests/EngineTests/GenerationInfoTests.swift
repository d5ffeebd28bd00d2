import Engine
import Sampling
import Tensor
import XCTest

/// The A1111 `parameters` text written into PNGs.
final class GenerationInfoTests: XCTestCase {
    func testTxt2ImgLine() throws {
        var r = GenerationRequest(prompt: "a (red:1.2) fox")
        r.negativePrompt = "blurry"
        r.sampler = try SamplerChoice.parse(sampler: "DPM++ 2M Karras")
        r.steps = 20
        r.cfgScale = 7
        r.width = 512
        r.height = 768
        XCTAssertEqual(GenerationInfo.parameters(r, seed: 1234, modelName: "sd15"),
                       "a (red:1.2) fox\nNegative prompt: blurry\nSteps: 20, Sampler: DPM++ 2M, Schedule type: Karras, "
                       + "CFG scale: 7, Seed: 1234, Size: 512x768, Model: sd15, RNG: CPU")
    }

    func testImg2ImgClipSkipCudaAndQuoting() throws {
        var r = GenerationRequest(prompt: "x")
        r.sampler = try SamplerChoice.parse(sampler: "euler_a")
        r.steps = 30
        r.cfgScale = 5.5
        r.width = 64
        r.height = 64
        r.clipSkip = 2
        r.rng = .cuda
        r.initImage = Tensor(shape: [1, 3, 64, 64])
        r.strength = 0.45
        XCTAssertEqual(GenerationInfo.parameters(r, seed: 7, modelName: "my, model"),
                       "x\nSteps: 30, Sampler: Euler a, CFG scale: 5.5, Seed: 7, Size: 64x64, Model: \"my, model\", "
                       + "Denoising strength: 0.45, Clip skip: 2, RNG: NV")
    }
}
