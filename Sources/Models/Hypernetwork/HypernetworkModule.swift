import Tensor

/// One of A1111's `HypernetworkModule`s: x + f(x) · strength, f a `torch.nn.Sequential` of Linear layers, each
/// optionally followed by the activation (not after the last one unless `activate_output`), a LayerNorm and a
/// Dropout (identity at inference, but it takes a Sequential index, so the weights' names skip it).
struct HypernetworkModule: Sendable {
    enum Layer: Sendable {
        case linear(Linear)
        case activation(HypernetworkActivation)
        case layerNorm(LayerNorm)
    }

    let layers: [Layer]

    func callAsFunction(_ x: Tensor, strength: Float) -> Tensor {
        var h = x
        for layer in layers {
            switch layer {
            case let .linear(l): h = l(h)
            case let .activation(a): h = a(h)
            case let .layerNorm(n): h = n(h)
            }
        }
        return x + h * strength
    }

    /// The architecture `structure` describes for width `dim`, its weights from `scope` (`linear.<index>.*`).
    init(_ scope: WeightScope, dim: Int, structure: HypernetworkStructure) throws {
        var built: [Layer] = []
        var index = 0
        let sizes = structure.layerStructure.map { Int(Double(dim) * $0) }  // Python's int() truncates
        for i in 0..<(sizes.count - 1) {
            built.append(.linear(try Linear(scope["linear"][index], input: sizes[i], output: sizes[i + 1])))
            index += 1
            let isLast = i >= sizes.count - 2
            if let activation = structure.activation, !isLast || structure.activateOutput {
                built.append(.activation(activation))
                index += 1
            }
            if structure.layerNorm {
                built.append(.layerNorm(try LayerNorm(scope["linear"][index], dim: sizes[i + 1], eps: 1e-5)))
                index += 1
            }
            if structure.dropout[i + 1] > 0 { index += 1 }
        }
        layers = built
    }
}
