import Foundation
import Tensor
import Weights

/// Tests/Fixtures/pipeline (made by scripts/fixtures/make_pipeline_fixtures.py) and the tiny models of
/// Tests/Fixtures/sd (scripts/fixtures/make_sd_fixtures.py).
enum PipelineFixtures {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures")
    static var pipelineDir: URL { root.appendingPathComponent("pipeline") }
    static func modelFolder(_ family: String) -> String {
        root.appendingPathComponent("sd/\(family)/diffusers").path
    }
    static func singleFile(_ family: String) -> String {
        root.appendingPathComponent("sd/\(family)/single.safetensors").path
    }

    struct Case {
        let name: String
        let family: String
        let mode: String
        let sampler: String
        let scheduler: String
        let steps: Int
        let cfgScale: Double
        let prompt: String
        let negativePrompt: String
        let seed: UInt64
        let batchSize: Int
        let width: Int
        let height: Int
        let strength: Double?
        let initImage: String?
        let guidanceRescale: Double
        let clipSkip: Int
    }

    static func cases() throws -> [Case] {
        let data = try Data(contentsOf: pipelineDir.appendingPathComponent("cases.json"))
        guard let list = try JSONSerialization.jsonObject(with: data) as? [[String: Any]] else { return [] }
        return list.compactMap { d in
            guard let name = d["name"] as? String, let family = d["family"] as? String, let mode = d["mode"] as? String,
                  let sampler = d["sampler"] as? String, let scheduler = d["scheduler"] as? String,
                  let steps = d["steps"] as? Int, let cfg = (d["cfg_scale"] as? NSNumber)?.doubleValue,
                  let prompt = d["prompt"] as? String, let seed = d["seed"] as? Int, let batch = d["batch_size"] as? Int,
                  let width = d["width"] as? Int, let height = d["height"] as? Int else { return nil }
            return Case(name: name, family: family, mode: mode, sampler: sampler, scheduler: scheduler, steps: steps,
                        cfgScale: cfg, prompt: prompt, negativePrompt: d["negative_prompt"] as? String ?? "",
                        seed: UInt64(seed), batchSize: batch, width: width, height: height,
                        strength: (d["strength"] as? NSNumber)?.doubleValue, initImage: d["init_image"] as? String,
                        guidanceRescale: (d["guidance_rescale"] as? NSNumber)?.doubleValue ?? 0,
                        clipSkip: d["clip_skip"] as? Int ?? 1)
        }
    }

    static func references() throws -> SafeTensorsFile {
        try SafeTensorsFile(path: pipelineDir.appendingPathComponent("cases.safetensors").path)
    }

    /// 8-bit HWC values -> [1, 3, H, W] in [-1, 1] exactly as diffusers' VaeImageProcessor (x / 255, then 2x - 1,
    /// in float32).
    static func imageTensor(hwc: Tensor) -> Tensor {
        let h = hwc.shape[0], w = hwc.shape[1]
        let src = hwc.scalars
        var values = [Float](repeating: 0, count: 3 * h * w)
        for y in 0..<h {
            for x in 0..<w {
                for c in 0..<3 {
                    let v = src[(y * w + x) * 3 + c] / 255
                    values[(c * h + y) * w + x] = 2 * v - 1
                }
            }
        }
        return Tensor(shape: [1, 3, h, w], values: values)
    }
}
