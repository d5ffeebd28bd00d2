import Engine
import Foundation
import Models
import Sampling
import Tensor
import Weights
import XCTest

/// The whole-run bf16 accuracy rule of issue 15: 4-step Euler txt2img, img2img and inpaint on the tiny SD1 and SDXL
/// base models, at 96² because their VAEs downsample by 2 instead of 8: 96² gives the 48² latent that SD 1.5 and
/// SDXL have at the 384² (a 384² image would be a 192² latent with 36864-token attention). Our bf16 image's mean and max pixel error (0…255) against fp32 must be no larger than
/// 1.25 × PyTorch's own bf16 error on the same run, as `scripts/fixtures/make_bf16_accuracy_fixture.py` measured it
/// (the better of autocast and bf16 weights, both with the force_upcast VAE kept fp32 as ours keeps it).
///
/// The fp32 reference: diffusers' fp32 images (96×96×3 floats per run, six runs: 660 KB, or 166 KB as 8-bit,
/// which loses the sub-level errors measured here) do not fit the task's 100 KB fixture budget. So the fixture holds a fingerprint of each
/// diffusers fp32 run (block means of the 8-bit image and of the latents, one full-resolution crop) and this test
/// first checks our own fp32 run of the same request against it with the parity tolerances (8-bit within 1 level,
/// latents within 1e-4 × their largest value, which any block mean or crop of a matching run also meets). Only
/// then does our fp32 image stand in for diffusers' as the reference our bf16 error is measured against; the fp32
/// parity gap (about 1e-4 relative) is far below the bf16 errors compared here.
final class BF16RunAccuracyTests: XCTestCase {
    struct Record: Decodable {
        let runs: [Run]
        let fingerprint: Fingerprint
    }

    /// The fingerprint's geometry: pixel block side, the crop's [start, end) on both axes, latent block side.
    struct Fingerprint: Decodable {
        let block: Int
        let crop: [Int]
        let latent_block: Int
    }

    struct Run: Decodable {
        /// `model` names the family ("sd1", "sdxl"); `folder` is its diffusers folder under Tests/Fixtures.
        let name, model, folder, mode, prompt, negative_prompt, sampler, scheduler, best: String
        let steps, width, height: Int
        let cfg_scale: Double
        let strength: Double?
        let seed: UInt64
        let best_mean, best_max: Double
    }

    static let fixtures = PipelineFixtures.root


    /// The fixture script's picture: 8-bit RGB from integer arithmetic only, so it is the same bit for bit.
    static func picture(side: Int) -> Tensor {
        var values = [Float](repeating: 0, count: side * side * 3)
        for y in 0 ..< side {
            for x in 0 ..< side {
                let rgb = [(3 * x + 5 * y) % 256, (x * y / 7) % 256, ((x / 24 + y / 24) % 2) * 150 + 50]
                for c in 0 ..< 3 { values[(y * side + x) * 3 + c] = Float(rgb[c]) }
            }
        }
        return Tensor(shape: [side, side, 3], values: values)
    }

    /// The fixture script's mask as diffusers reads it (8-bit grey / 255; the pipeline binarises it).
    static func mask(side: Int) -> Tensor {
        var values = [Float](repeating: 0, count: side * side)
        func fill(rows: Range<Int>, columns: Range<Int>, _ value: Float) {
            for y in rows { for x in columns { values[y * side + x] = value / 255 } }
        }
        fill(rows: side * 9 / 32 ..< side * 23 / 32 + 3, columns: side * 6 / 32 + 5 ..< side * 20 / 32, 255)
        fill(rows: side / 8 ..< side / 8 + side / 16, columns: side * 3 / 4 ..< side * 3 / 4 + side / 8, 180)
        return Tensor(shape: [1, 1, side, side], values: values)
    }

    static func request(_ run: Run) throws -> GenerationRequest {
        var request = GenerationRequest(prompt: run.prompt)
        request.negativePrompt = run.negative_prompt
        request.sampler = try SamplerChoice.parse(sampler: run.sampler, scheduler: run.scheduler)
        request.steps = run.steps
        request.cfgScale = run.cfg_scale
        request.seed = run.seed
        request.width = run.width
        request.height = run.height
        if run.mode != "txt2img" {
            request.initImage = PipelineFixtures.imageTensor(hwc: picture(side: run.width))
            request.strength = run.strength ?? 0.75
        }
        return request
    }

    static func generate(_ run: Run, model: LoadedModel) throws -> GenerationResult {
        let request = try request(run)
        if run.mode == "inpaint" { return try InpaintPipeline(model: model).run(request, mask: mask(side: run.width)) }
        return try StableDiffusionPipeline(model: model).run(request)
    }

    /// Means of [H, W, C] values over `block`×`block` cells, as the fixture's numpy reshape-mean.
    static func blockMeans(_ values: [Float], height: Int, width: Int, channels: Int, block: Int) -> [Float] {
        let (rows, columns) = (height / block, width / block)
        var sums = [Double](repeating: 0, count: rows * columns * channels)
        for y in 0 ..< rows * block {
            for x in 0 ..< columns * block {
                for c in 0 ..< channels {
                    sums[((y / block) * columns + x / block) * channels + c] += Double(values[(y * width + x) * channels + c])
                }
            }
        }
        return sums.map { Float($0 / Double(block * block)) }
    }

    /// Our fp32 run against the diffusers fp32 fingerprint; a message per mismatch.
    static func fingerprintMismatches(_ result: GenerationResult, run: Run, refs: SafeTensorsFile, geometry: Fingerprint) throws -> [String] {
        var failures: [String] = []
        let (h, w) = (run.height, run.width)
        let ours8 = PipelineParityTests.eightBitHWC(result.images)
        let blocks = try refs.tensor("\(run.name).blocks").scalars
        let blockError = PipelineParityTests.maxAbsDiff(blockMeans(ours8, height: h, width: w, channels: 3, block: geometry.block), blocks)
        if blockError > 1 { failures.append("\(run.name): 8-bit block means differ by \(blockError)") }
        var crop: [Float] = []
        let span = try XCTUnwrap(geometry.crop.count == 2 && geometry.crop[1] <= min(h, w) ? geometry.crop[0] ..< geometry.crop[1] : nil)
        for y in span { for x in span { for c in 0 ..< 3 { crop.append(ours8[(y * w + x) * 3 + c]) } } }
        let cropError = PipelineParityTests.maxAbsDiff(crop, try refs.tensor("\(run.name).crop").scalars)
        if cropError > 1 { failures.append("\(run.name): 8-bit crop differs by \(cropError)") }
        // Latents [1, C, h, w] as [h, w, C] for the same block means the script takes (it stores them [C, h/b, w/b]).
        let latents = result.latents
        let (c, lh, lw) = (latents.shape[1], latents.shape[2], latents.shape[3])
        var hwc = [Float](repeating: 0, count: c * lh * lw)
        for ch in 0 ..< c { for y in 0 ..< lh { for x in 0 ..< lw { hwc[(y * lw + x) * c + ch] = latents.scalars[(ch * lh + y) * lw + x] } } }
        let b = geometry.latent_block
        let means = blockMeans(hwc, height: lh, width: lw, channels: c, block: b)
        let (rows, columns) = (lh / b, lw / b)
        var chw = [Float](repeating: 0, count: means.count)
        for y in 0 ..< rows { for x in 0 ..< columns { for ch in 0 ..< c { chw[(ch * rows + y) * columns + x] = means[(y * columns + x) * c + ch] } } }
        let scale = try refs.tensor("\(run.name).latent_scale").scalars[0]
        let latentError = PipelineParityTests.maxAbsDiff(chw, try refs.tensor("\(run.name).latent_blocks").scalars)
        if latentError > 1e-4 * scale { failures.append("\(run.name): latent block means differ by \(latentError) (scale \(scale))") }
        return failures
    }

    /// Mean and max |a − b| × 255 over two [N, 3, H, W] images in [0, 1].
    static func pixelError(_ a: Tensor, _ b: Tensor) -> (mean: Double, max: Double) {
        var sum = 0.0, worst = 0.0
        for (x, y) in zip(a.scalars, b.scalars) {
            let d = abs(Double(x) - Double(y)) * 255
            sum += d
            worst = max(worst, d)
        }
        return (sum / Double(max(1, a.count)), worst)
    }

    func checkRuns(model name: String) throws {
        let dir = Self.fixtures.appendingPathComponent("pipeline")
        let record = try JSONDecoder().decode(Record.self, from: Data(contentsOf: dir.appendingPathComponent("bf16_runs.json")))
        let refs = try SafeTensorsFile(path: dir.appendingPathComponent("bf16_runs.safetensors").path)
        let runs = record.runs.filter { $0.model == name }
        XCTAssertEqual(Set(runs.map(\.mode)), ["txt2img", "img2img", "inpaint"], "fixture runs missing")
        var models: [String: LoadedModel] = [:]
        var failures: [String] = []
        for run in runs {
            let model = try models[run.folder] ?? LoadedModel.load(name: run.model, path: Self.fixtures.appendingPathComponent(run.folder).path)
            models[run.folder] = model
            let fp32 = try Self.generate(run, model: model)
            let mismatches = try Self.fingerprintMismatches(fp32, run: run, refs: refs, geometry: record.fingerprint)
            failures += mismatches
            guard mismatches.isEmpty else { continue }
            let bf16 = try ComputePrecision.$current.withValue(.bf16) { try Self.generate(run, model: model) }
            let ours = Self.pixelError(bf16.images, fp32.images)
            let summary = "\(run.name): ours mean \(ours.mean) max \(ours.max), torch (\(run.best)) mean \(run.best_mean) max \(run.best_max)"
            print(summary)
            XCTAssertGreaterThan(ours.mean, 0, "\(run.name): the bf16 run must actually round")
            if ours.mean > 1.25 * run.best_mean || ours.max > 1.25 * run.best_max { failures.append(summary) }
        }
        XCTAssert(failures.isEmpty, failures.joined(separator: "\n"))
    }

    func testSD1RunsBF16ErrorIsWithinTorchsOwn() throws {
        try checkRuns(model: "sd1")
    }

    func testSDXLRunsBF16ErrorIsWithinTorchsOwn() throws {
        try checkRuns(model: "sdxl")
    }
}
