import Tensor

extension NoiseSource {
    /// One `torch.randn(shape, generator=...)` draw.
    public func randn(_ shape: [Int]) -> Tensor {
        Tensor(shape: shape, values: normalValues(count: shape.reduce(1, *)))
    }
}

/// One generator per batch element (seeds seed, seed+1, ...), drawn as diffusers'
/// `randn_tensor` does with a list of generators: each element's slice in turn.
public final class PerSampleNoise: NoiseSource {
    public let generators: [NoiseSource]

    public init(generators: [NoiseSource]) {
        precondition(!generators.isEmpty, "PerSampleNoise needs at least one generator")
        self.generators = generators
    }

    public func normalValues(count: Int) -> [Float] {
        precondition(count % generators.count == 0, "draw of \(count) values does not split over \(generators.count) samples")
        let per = count / generators.count
        return generators.flatMap { $0.normalValues(count: per) }
    }
}
