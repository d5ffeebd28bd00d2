import Engine
import Foundation
import Imaging
import PluginAPI

/// What the refine tests share: the settings they run the tiny sd1 model with, a striped picture for controls and
/// adapters, and a models folder of links for runs through the upscale plugin.
enum RefineFixtures {
    /// 4 steps at strength 0.5 (int(4 × 0.5) = 2 per tile), CFG 7, 32-pixel tiles overlapping by 8.
    static func settings(tile: Int = 32, overlap: Int = 8, seamFix: Bool = false, seed: UInt64 = 1234) -> RefineSettings {
        var s = RefineSettings(prompt: "a photo of a cat")
        s.negativePrompt = "blurry"
        s.steps = 4
        s.strength = 0.5
        s.cfgScale = 7
        s.seed = seed
        s.tile = tile
        s.overlap = overlap
        s.seamFix = seamFix
        return s
    }

    /// Diagonal stripes, 40 × 36 RGB: a picture whose every window differs.
    static func stripes() throws -> VipsImage {
        let (w, h) = (40, 36)
        let bytes = (0..<(w * h * 3)).map { i -> UInt8 in ((i / 3 % w + i / 3 / w) / 4) % 2 == 0 ? 255 : 0 }
        return try VipsImage(bytes: bytes, width: w, height: h, bands: 3)
    }

    /// A temporary folder whose `models` holds `tiny` (the sd1 fixture) and each of `links` (a path inside
    /// `models` → its target); the caller removes `dir`.
    struct PluginFolder {
        let dir: String
        let models: String

        func context(progress: @escaping @Sendable (ProgressUpdate) -> Void = { _ in }) -> JobContext {
            JobContext(requestID: .integer(1), method: "upscale", pathPolicy: PathPolicy(), modelsDirectory: models,
                       cancellation: CancellationToken(), progressSink: progress)
        }
    }

    static func pluginFolder(links: [String: String] = [:]) throws -> PluginFolder {
        let dir = try UpscaleFixtures.temporaryDirectory()
        let models = dir + "/models"
        let files = FileManager.default
        try files.createDirectory(atPath: models, withIntermediateDirectories: true)
        try files.createSymbolicLink(atPath: models + "/tiny",
                                     withDestinationPath: UpscaleFixtures.repoRoot + "/Tests/Fixtures/sd/sd1/diffusers")
        for (link, target) in links.sorted(by: { $0.key < $1.key }) {
            let path = models + "/" + link
            try files.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try files.createSymbolicLink(atPath: path, withDestinationPath: target)
        }
        return PluginFolder(dir: dir, models: models)
    }
}
