import Models
import Sampling
import Tensor

extension GenerationCore {
    /// Refuses adapters that cannot steer this model, naming the entry: a picture not at the output size or
    /// with the wrong channel count, a weight or factor out of range, and features whose shapes do not fit the
    /// UNet's down blocks (an SDXL adapter on an SD1 model, or the other way round).
    func validateAdapters(_ request: GenerationRequest) throws {
        let unet = model.networks.unet
        let latent = latentShape(for: request)
        let expected = unet.adapterFeatureShapes(batch: 1, height: latent[2], width: latent[3])
        for (i, control) in request.adapters.enumerated() {
            let config = control.adapter.config
            guard control.weight.isFinite, abs(control.weight) <= 10 else {
                throw EngineError.invalidParameter(field: "adapters[\(i)].weight", reason: "must be a finite number in [-10, 10]")
            }
            guard control.factor.isFinite, (0...1).contains(control.factor) else {
                throw EngineError.invalidParameter(field: "adapters[\(i)].factor", reason: "must be in [0, 1]")
            }
            guard control.image.shape == [1, config.inChannels, request.height, request.width] else {
                throw EngineError.invalidParameter(field: "adapters[\(i)].image",
                    reason: "expected a [1, \(config.inChannels), \(request.height), \(request.width)] picture, got \(control.image.shape)")
            }
            guard request.width % config.downscaleFactor == 0, request.height % config.downscaleFactor == 0 else {
                throw EngineError.invalidParameter(field: "adapters[\(i)].model",
                    reason: "\(control.name) needs sides that are multiples of \(config.downscaleFactor), got \(request.width)×\(request.height)")
            }
            let features = Self.featureShapes(config, height: request.height, width: request.width)
            // Every down block that gets a feature must get one of its shape (extra features are unused, as
            // in diffusers; a first one beyond the down blocks may feed the mid block).
            let fitting = zip(features, expected.down).prefix { $0 == $1 }.count
            guard fitting == min(features.count, expected.down.count) else {
                throw EngineError.invalidParameter(field: "adapters[\(i)].model",
                    reason: "\(control.name) (a \(config.family) \(config.variant) adapter, features \(features.map { Array($0.dropFirst()) })) does not fit \(model.name)'s UNet, whose down blocks take \(expected.down.map { Array($0.dropFirst()) })")
            }
        }
    }

    /// The feature shapes an adapter makes for an H × W picture (batch 1), computed from its architecture so a
    /// mismatch is refused before any work.
    static func featureShapes(_ config: T2IAdapterConfig, height: Int, width: Int) -> [[Int]] {
        var (h, w) = (height / config.downscaleFactor, width / config.downscaleFactor)
        var shapes: [[Int]] = []
        for i in 0 ..< config.levelCount {
            let level = config.level(i)
            if level.downsamples { (h, w) = ((h + 1) / 2, (w + 1) / 2) }
            shapes.append([1, level.output, h, w])
        }
        return shapes
    }

    /// The UNet input of `request.adapters` over `plan`, or nil without adapters.
    func adapterInput(for request: GenerationRequest, plan: SamplingPlan) throws -> T2IAdapterUNetInput? {
        guard !request.adapters.isEmpty else { return nil }
        return try T2IAdapterUNetInput(request.adapters, plan: plan, images: request.batchSize, unet: model.networks.unet.config)
    }
}
