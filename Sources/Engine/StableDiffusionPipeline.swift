import Foundation
import Models
import Sampling
import Tensor

/// txt2img and img2img on one resident model, step for step what diffusers' StableDiffusionPipeline and
/// StableDiffusionImg2ImgPipeline compute (same noise draws, same schedule, same guidance), run by
/// `GenerationCore`; this type only validates the img2img inputs and prepares the start latents.
///
/// Batches: image i uses its own generator seeded with `seed + i` (A1111's convention; in diffusers a list
/// of generators), so image i of a batch equals a single-image run with seed + i (for the deterministic
/// samplers; ancestral ones too, because each image draws its step noise from its own generator).
/// Classifier-free guidance runs the UNet once per step on a batch of 2N: unconditional then conditional,
/// as diffusers. With `cfgScale` <= 1 the unconditional pass is skipped (diffusers' rule).
public struct StableDiffusionPipeline {
    public let model: LoadedModel
    let core: GenerationCore

    /// `conditioner` replaces the model's own (`LoadedModel.conditioner`), e.g. one with other prompt rules.
    public init(model: LoadedModel, conditioner: (any Conditioner)? = nil) {
        self.model = model
        core = GenerationCore(model: model, conditioner: conditioner)
    }

    /// Largest width/height accepted (A1111's limit); bounds the VAE's activation memory per request.
    public static let maxSide = 2048

    /// Pixels per latent cell: 2^(VAE levels - 1) (8 for SD).
    public var vaeScaleFactor: Int { core.vaeScaleFactor }

    /// Hooks of one run: cancellation (checked before every step), per-step reports, and an optional
    /// latent blend (inpainting; passed to the shared loop unchanged).
    public struct Hooks {
        public var isCancelled: () -> Bool
        public var onStep: (PipelineStep) throws -> Void
        public var blend: ((Tensor, Int) throws -> Tensor)?

        public init(isCancelled: @escaping () -> Bool = { false }, onStep: @escaping (PipelineStep) throws -> Void = { _ in },
                    blend: ((Tensor, Int) throws -> Tensor)? = nil) {
            self.isCancelled = isCancelled
            self.onStep = onStep
            self.blend = blend
        }
    }

    public func validate(_ request: GenerationRequest) throws {
        try core.validate(request)
        let (w, h) = (request.width, request.height)
        if let image = request.initImage {
            guard image.shape == [1, 3, h, w] else {
                throw EngineError.invalidParameter(field: "image", reason: "expected a [1, 3, \(h), \(w)] tensor, got \(image.shape)")
            }
            guard request.strength > 0, request.strength <= 1 else {
                throw EngineError.invalidParameter(field: "strength", reason: "must be in (0, 1]")
            }
            // diffusers runs int(steps * strength) steps; zero steps would return the input unchanged.
            guard request.sampler.sampler == .lcm || Int(Double(request.steps) * request.strength) >= 1 else {
                throw EngineError.invalidParameter(field: "strength",
                    reason: "\(request.strength) of \(request.steps) steps runs no step; raise strength or steps")
            }
        }
        if isDepthModel {
            guard request.initImage != nil else {
                throw EngineError.invalidParameter(field: "model",
                    reason: "\(model.name) is a depth-to-image model: use img2img with image and depth_map")
            }
            guard request.depthMap != nil else {
                throw EngineError.invalidParameter(field: "depth_map",
                    reason: "\(model.name) is a depth-to-image model and needs a depth map (no depth estimator ships): send depth_map")
            }
        } else {
            guard model.networks.unet.config.inChannels == model.networks.vae.config.latentChannels else {
                throw EngineError.unsupportedModel(name: model.name,
                    reason: "its UNet takes \(model.networks.unet.config.inChannels) channels (an inpainting model); use inpaint")
            }
            if request.depthMap != nil {
                throw EngineError.invalidParameter(field: "depth_map",
                    reason: "\(model.name) is not a depth-to-image model (its UNet takes \(model.networks.unet.config.inChannels) channels)")
            }
        }
    }

    /// A depth-to-image model (SD 2 depth): its UNet takes the latents and one depth channel.
    public var isDepthModel: Bool {
        model.networks.unet.config.inChannels == model.networks.vae.config.latentChannels + 1
    }

    /// The sampling plan of a request (also what progress reporting counts steps with).
    public func plan(for request: GenerationRequest) throws -> SamplingPlan {
        try core.plan(for: request, strength: request.initImage == nil ? nil : request.strength)
    }

    /// The checks a refiner hand-off adds (see `GenerationCore.validate(refiner:for:)`).
    public func validate(_ request: GenerationRequest, refiner: RefinerHandoff?) throws {
        try validate(request)
        if let refiner { try core.validate(refiner: refiner, for: request) }
    }

    /// The stages of a request: one over the whole plan, or the base's and the refiner's parts of it.
    public func stages(for request: GenerationRequest, refiner: RefinerHandoff?) throws -> [GenerationStage] {
        try core.stages(for: request, plan: plan(for: request), strength: request.initImage == nil ? nil : request.strength,
                        refiner: refiner)
    }

    /// Runs the request on this model, or with `refiner` the SDXL hand-off: this model up to the switch, the
    /// refiner after it (img2img included: diffusers' refiner with `denoising_start`).
    public func run(_ request: GenerationRequest, refiner: RefinerHandoff? = nil, hooks: Hooks = Hooks()) throws -> GenerationResult {
        try validate(request, refiner: refiner)
        let plan = try plan(for: request)
        let noise = request.rng.makeNoise(seeds: request.seeds)
        let x: Tensor
        if let image = request.initImage {
            // diffusers' order: the posterior sample draws from the generator(s) first, then add_noise's noise.
            let sample = try core.posteriorSample(of: image, batch: request.batchSize, noise: noise)
            x = Sampler.noisedLatent(plan: plan, x0: sample * model.networks.latentScale, noise: noise)
        } else {
            x = Sampler.initialLatent(plan: plan, shape: core.latentShape(for: request), noise: noise)
        }
        let stages = try core.stages(for: request, plan: plan, strength: request.initImage == nil ? nil : request.strength,
                                     refiner: refiner)
        var start = GenerationStart(latents: x, noise: noise)
        if let adapters = try core.adapterInput(for: request, plan: plan) { start.extensions.append(adapters) }
        if isDepthModel, let depth = request.depthMap {
            let shape = core.latentShape(for: request)
            start.extensions.append(DepthUNetInput(
                depth: try DepthMap.prepare(depth, images: request.batchSize, latentHeight: shape[2], latentWidth: shape[3]),
                latentChannels: shape[1]))
        }
        return try core.run(request, stages: stages, start: start, hooks: hooks)
    }
}
