import Tensor
import Weights

/// The weights one network of a loaded model was built from, by diffusers name: the tensors it holds (shared
/// storage) and the shapes of every name its source offered. A network rebuilt from this source, or from an
/// `overlaid` copy, holds exactly the same tensors except the replaced ones.
public struct ComponentWeights: TensorSource, @unchecked Sendable {
    public let tensors: [String: Tensor]
    public let shapes: [String: [Int]]
    public let names: [String]

    public init(tensors: [String: Tensor], shapes: [String: [Int]]) {
        self.tensors = tensors
        self.shapes = shapes
        self.names = shapes.keys.sorted()
    }

    public func shape(of name: String) -> [Int]? { shapes[name] }

    public func tensor(_ name: String) throws -> Tensor {
        guard let value = tensors[name] else { throw WeightsError.tensorNotFound(path: "<loaded network>", tensor: name) }
        return value
    }

    /// The same weights with `replacements` in place of the tensors of those names (shapes must not change).
    public func overlaid(_ replacements: [String: Tensor]) -> ComponentWeights {
        ComponentWeights(tensors: tensors.merging(replacements) { _, new in new }, shapes: shapes)
    }
}

/// The recorded weights of a model's adaptable networks: the UNet and each text encoder (the VAE is never
/// adapted).
public struct NetworkWeights: Sendable {
    public let unet: ComponentWeights
    public let textEncoders: [TextEncoderSlot: ComponentWeights]

    public init(unet: ComponentWeights, textEncoders: [TextEncoderSlot: ComponentWeights]) {
        self.unet = unet
        self.textEncoders = textEncoders
    }
}
