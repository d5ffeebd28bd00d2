import Tensor
import Weights

/// Real-ESRGAN's SRVGGNetCompact (realesr-animevideov3, realesr-general-x4v3): a plain VGG-style stack —
/// conv(3→F) + PReLU, `convs` × (conv(F→F) + PReLU), conv(F→3·s²) — then pixel shuffle by s, plus the input
/// upsampled ×s by nearest neighbour (the network learns the residual over it).
///
/// The weights are a ModuleList `body.0 … body.(2·convs+2)`: even indices convs, odd indices PReLU slopes.
/// `convs`, F and s are read from them.
public final class SRVGGNetCompact: UpscalerNetwork, @unchecked Sendable {
    public let scale: Int
    public let convCount: Int
    public let features: Int
    public let parameterCount: Int
    /// Bytes its weights occupy resident (16-bit weight matrices at 2 bytes per value).
    public let residentBytes: Int
    public var inputMultiple: Int { 1 }
    /// Every conv runs at input resolution (the pixel shuffle and the nearest-upsampled input add none).
    public var receptiveRadius: Int { convs.count }

    /// The convs of a `body` ModuleList of `modules` entries (conv/PReLU pairs then a conv): its receptive radius.
    public static func receptiveRadius(modules: Int) -> Int { (modules + 1) / 2 }

    private let convs: [Conv2D]
    private let slopes: [[Float]]

    /// What the weights' names and shapes say, before any tensor is read (also what `ModelProbe` reports).
    public struct Structure: Equatable, Sendable {
        public let scale: Int
        public let inChannels: Int
        public let features: Int
        /// Entries of the `body` ModuleList (convs and PReLUs).
        public let modules: Int
        public let outChannels: Int
    }

    public static func structure(of weights: any TensorSource) throws -> Structure {
        guard let first = weights.shape(of: "body.0.weight"), first.count == 4 else {
            throw ModelLoadError.missingTensor(name: "body.0.weight", expectedShape: [64, 3, 3, 3])
        }
        let features = first[0]
        let inChannels = first[1]
        var modules = 0
        while weights.contains("body.\(modules).weight") { modules += 1 }
        // conv, prelu, (conv, prelu) × n, conv: an odd count of at least 3.
        guard modules >= 3, modules % 2 == 1, let last = weights.shape(of: "body.\(modules - 1).weight"), last.count == 4 else {
            throw ModelLoadError.invalidConfig("SRVGGNetCompact needs body.0 … body.(2n+2) (conv/PReLU pairs then a conv), found \(modules) modules")
        }
        // Before dividing by it: a file declaring a zero-channel first conv is refused, not a trap.
        try requirePositive([features, inChannels], "SRVGGNetCompact features/channels")
        let shuffled = last[0] / inChannels
        let s = Int(Double(shuffled).squareRoot().rounded())
        guard s >= 1, s * s * inChannels == last[0] else {
            throw ModelLoadError.unsupportedConfig(field: "last conv output channels (3·scale²)", value: "\(last[0])")
        }
        return Structure(scale: s, inChannels: inChannels, features: features, modules: modules, outChannels: last[0])
    }

    public init(weights: any TensorSource) throws {
        let structure = try Self.structure(of: weights)
        features = structure.features
        scale = structure.scale
        let inChannels = structure.inChannels
        let modules = structure.modules
        convCount = (modules - 3) / 2

        let reader = WeightReader(weights)
        let body = WeightScope(reader)["body"]
        var convs: [Conv2D] = []
        var slopes: [[Float]] = []
        for i in stride(from: 0, to: modules, by: 2) {
            let input = i == 0 ? inChannels : features
            let output = i == modules - 1 ? structure.outChannels : features
            convs.append(try Conv2D(body[i], input: input, output: output, kernel: 3))
            if i + 1 < modules { slopes.append(try body[i + 1].tensor("weight", shape: [features]).scalars) }
        }
        try reader.finish()
        self.convs = convs
        self.slopes = slopes
        parameterCount = reader.loadedElements
        residentBytes = reader.loadedBytes
    }

    public func forward(_ x: Tensor) -> Tensor {
        perSample(x) { sample in
            var out = sample
            for (i, conv) in convs.enumerated() {
                out = conv(out)
                if i < slopes.count { UpscalerOps.prelu(&out, slopes: slopes[i]) }
            }
            var result = PixelShuffle.shuffle(out, factor: scale)
            result.addInPlace(resizeNearest(sample, height: sample.shape[2] * scale, width: sample.shape[3] * scale))
            return result
        }
    }
}
