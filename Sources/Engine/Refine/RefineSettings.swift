import Models
import Sampling

/// Parameters of an SD refine (A1111's "SD upscale"): img2img at low strength over overlapping tiles.
public struct RefineSettings: Sendable {
    public var prompt: String
    public var negativePrompt: String = ""
    /// Fraction of the schedule run on each tile (diffusers' img2img `strength`).
    public var strength: Double = 0.3
    public var steps: Int = 20
    public var cfgScale: Double = 7.5
    public var sampler: SamplerChoice = SamplerChoice(sampler: .euler)
    public var seed: UInt64 = 0
    /// The embeddings the prompts use and the hypernetworks, as `GenerationRequest`'s (every tile gets them).
    public var embeddings: PromptEmbeddings = .none
    public var hypernetworks: HypernetworkStack = .none
    /// Tile side in pixels of the (already upscaled) image; a multiple of 8 (and of the VAE factor).
    public var tile: Int = 512
    /// Minimum overlap of neighbouring tiles, blended with the tile grid's raised-cosine weights.
    public var overlap: Int = 64
    /// A second pass over bands centred on the seams, at half the strength, feathered into the image.
    public var seamFix: Bool = false
    /// SDXL's second-encoder prompts and micro-conditioning, the same for every tile; absent sizes mean the
    /// tile's own (each tile is an img2img of its window, as diffusers and A1111's SD upscale condition it).
    public var prompt2: String?
    public var negativePrompt2: String?
    public var micro = MicroConditioning()
    /// ControlNets steering every window, their images in the refined (upscaled) image's frame: fitted to its size
    /// by their resize mode and cut with each window's rectangle (`TileRefiner.controls(forImageOf:)`).
    public var controls: [ControlNetInput] = []
    /// T2I-Adapters steering every window, their pictures in the refined image's frame like the controls': stretched
    /// to its size and cut with each window's rectangle (`TileRefiner.adapters(forImageOf:)`); each window's
    /// features are computed once for its run.
    public var adapters: [T2IAdapterPicture] = []

    public static let defaultStrength = 0.3
    public static let defaultTile = 512
    public static let defaultOverlap = 64

    public init(prompt: String) {
        self.prompt = prompt
    }

    /// Strength of the seam-fix pass: half the main strength, or the main strength itself when half of it
    /// would run no step (int(steps * strength) == 0).
    public var seamStrength: Double {
        let half = strength / 2
        return Int(Double(steps) * half) >= 1 ? half : strength
    }

    /// Band width of the seam-fix pass: twice the overlap (at least 32), rounded up to a multiple of 8, never
    /// wider than a tile.
    public var seamBandWidth: Int {
        min(tile, (max(2 * overlap, 32) + 7) / 8 * 8)
    }
}

extension RefineSettings {
    /// Sets the sampler from its API/A1111 name and optional schedule name (as img2img parses them), so callers
    /// need not depend on the Sampling module.
    public mutating func setSampler(_ name: String, scheduler: String?) throws {
        do { sampler = try SamplerChoice.parse(sampler: name, scheduler: scheduler) } catch let e as SamplingError {
            throw EngineError.invalidParameter(field: scheduler == nil ? "refine.sampler" : "refine.sampler/scheduler",
                                               reason: e.description)
        }
    }
}
