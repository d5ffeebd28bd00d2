import Models
import Sampling
import Tensor

/// The T2I-Adapters of a run as a UNet input: every adapter's features computed once, scaled by its weight
/// (several adapters sum, as diffusers' `MultiAdapter`), and handed to each UNet call whose timestep lies in
/// the adapter's first `Int(steps × factor)` steps (diffusers' `i < int(num_inference_steps × factor)`; a
/// second evaluation inside a step, as Heun's, belongs to the step it starts from). Only stages whose UNet has
/// the architecture the features were checked against take them (a refiner is another UNet).
struct T2IAdapterUNetInput: UNetInputExtension {
    /// Per adapter: features [images, c, h, w] per level, scaled by the weight, and the smallest timestep of
    /// its active steps (nil: never active).
    let adapters: [(features: [Tensor], lowestTimestep: Float?)]
    let unet: UNetConfig

    init(_ controls: [T2IAdapterControl], plan: SamplingPlan, images: Int, unet: UNetConfig) throws {
        self.unet = unet
        adapters = try controls.enumerated().map { index, control in
            let raw: [Tensor]
            do { raw = try control.adapter.features(control.image) } catch {
                throw EngineError.invalidParameter(field: "adapters[\(index)].image", reason: "\(error)")
            }
            let weight = Float(control.weight)
            let features = raw.map { feature -> Tensor in
                let scaled = feature * weight
                return images == 1 ? scaled : concat(Array(repeating: scaled, count: images), axis: 0)
            }
            let active = Int(Double(plan.steps) * control.factor)
            // Compared as the UNet receives timesteps (Float), so the boundary step itself is in.
            return (features, active > 0 ? Float(plan.timesteps[min(active, plan.steps) - 1]) : nil)
        }
    }

    func applies(to config: UNetConfig) -> Bool { config == unet }

    func extend(_ input: inout UNetStepInput, layout: GuidanceBatchLayout) throws {
        let t = input.timestep
        var sum: [Tensor]?
        for adapter in adapters {
            guard let lowest = adapter.lowestTimestep, t >= lowest else { continue }
            if let current = sum {
                sum = zip(current, adapter.features).map { $0 + $1 }
            } else {
                sum = adapter.features
            }
        }
        guard let sum else { return }
        input.conditioning.adapterFeatures = sum.map { layout.batched($0) }
    }
}
