import Models
import Tensor

/// The ControlNets of a run as a UNet input: at every step each active entry runs on the step's latents,
/// timestep and conditioning, and the sums of their residuals go to the UNet (`UNetConditioning.control`), as
/// diffusers' ControlNet pipelines and `MultiControlNetModel` do. It must run before extensions that widen the
/// latents (9-channel inpainting): a ControlNet sees the 4 latent channels, as in diffusers.
struct ControlNetUNetInput: UNetInputExtension {
    struct Entry {
        let input: ControlNetInput
        /// The control image at the run's size through the network's hint block, [images, conv_in width, h, w]:
        /// made once for the run, since it depends on the image only (diffusers remakes it at every step).
        let embeddedHint: Tensor

        /// `hint`: the control image at the run's size, [images, hint channels, H, W] in [0, 1].
        init(input: ControlNetInput, hint: Tensor) throws {
            self.input = input
            embeddedHint = try input.controlNet.network.embedHint(hint)
        }
    }

    let entries: [Entry]
    /// The UNet the ControlNets were checked against (the base's); a refiner stage runs on another and goes
    /// without them.
    let unet: UNetConfig

    func applies(to config: UNetConfig) -> Bool { config == unet }

    func extend(_ step: inout UNetStepInput, layout: GuidanceBatchLayout) throws {
        var sum: ControlResiduals?
        for entry in entries where entry.input.isActive(step: step.step, of: step.steps) {
            let residuals = try self.residuals(entry, step: step, layout: layout)
            guard var total = sum else { sum = residuals; continue }
            for k in total.down.indices { total.down[k] += residuals.down[k] }
            total.mid += residuals.mid
            sum = total
        }
        guard let sum else { return }
        if var existing = step.conditioning.control {
            for k in existing.down.indices { existing.down[k] += sum.down[k] }
            existing.mid += sum.mid
            step.conditioning.control = existing
        } else {
            step.conditioning.control = sum
        }
    }

    /// One entry's residuals for the whole UNet batch. In guess mode with guidance the ControlNet sees only the
    /// conditional half (latents, context, added conditioning) and the unconditional half gets zeros.
    func residuals(_ entry: Entry, step: UNetStepInput, layout: GuidanceBatchLayout) throws -> ControlResiduals {
        let network = entry.input.controlNet.network
        let scale = Float(entry.input.weight)
        let guess = entry.input.runsInGuessMode
        guard guess, layout.hasUnconditional else {
            return try network(latents: step.latents, timestep: step.timestep, conditioning: step.conditioning,
                               embeddedHint: layout.batched(entry.embeddedHint), scale: scale, guessMode: guess)
        }
        var conditional = step.conditioning
        conditional.context = layout.halves(step.conditioning.context).conditional
        if let added = step.conditioning.added {
            conditional.added = AddedConditioning(textEmbeds: layout.halves(added.textEmbeds).conditional,
                                                  timeIDs: layout.halves(added.timeIDs).conditional)
        }
        let half = try network(latents: layout.halves(step.latents).conditional, timestep: step.timestep,
                               conditioning: conditional, embeddedHint: entry.embeddedHint, scale: scale, guessMode: true)
        func padded(_ x: Tensor) -> Tensor { concat([Tensor(shape: x.shape), x], axis: 0) }
        return ControlResiduals(down: half.down.map(padded), mid: padded(half.mid))
    }
}
