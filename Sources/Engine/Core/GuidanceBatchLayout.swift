import Tensor

/// How the core lays out the UNet batch of one step: [uncond × images, cond × images] when classifier-free
/// guidance runs the unconditional pass (diffusers' order), else [cond × images]. Extensions use it to
/// bring their per-image inputs to the batch.
public struct GuidanceBatchLayout: Sendable, Equatable {
    public let images: Int
    public let hasUnconditional: Bool

    public init(images: Int, hasUnconditional: Bool) {
        self.images = images
        self.hasUnconditional = hasUnconditional
    }

    /// Rows of the UNet batch.
    public var size: Int { hasUnconditional ? 2 * images : images }

    /// A per-image tensor [images, ...] repeated to the UNet batch (once per guidance half).
    public func batched(_ perImage: Tensor) -> Tensor {
        hasUnconditional ? concat([perImage, perImage], axis: 0) : perImage
    }

    /// The (unconditional, conditional) halves of a UNet output [size, ...]; without the unconditional
    /// pass there is only the conditional half.
    func halves(_ output: Tensor) -> (unconditional: Tensor?, conditional: Tensor) {
        guard hasUnconditional else { return (nil, output) }
        let parts = split(output, axis: 0, sizes: [images, images])
        return (parts[0], parts[1])
    }
}
