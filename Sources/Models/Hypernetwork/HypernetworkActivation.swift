import Foundation
import Tensor

/// The activations an A1111 hypernetwork names (`HypernetworkModule.activation_dict`: its own short list plus
/// every class of `torch.nn.modules.activation`, lowercased, without parameters). Note A1111's "swish" is
/// torch's Hardswish, not SiLU.
enum HypernetworkActivation: String, Sendable, CaseIterable {
    case relu, leakyrelu, elu, swish, hardswish, tanh, sigmoid, gelu, silu, mish, softplus, relu6, selu, celu
    case hardsigmoid, softsign, logsigmoid, tanhshrink, hardtanh

    func callAsFunction(_ x: Tensor) -> Tensor {
        var out = x
        out.withUnsafeMutableBufferPointer { p in
            for i in p.indices { p[i] = apply(p[i]) }
        }
        return out
    }

    /// torch's definitions at their default parameters.
    func apply(_ x: Float) -> Float {
        switch self {
        case .relu: return max(x, 0)
        case .leakyrelu: return x >= 0 ? x : 0.01 * x
        case .elu: return x > 0 ? x : expm1f(x)
        case .swish, .hardswish: return x * min(max(x + 3, 0), 6) / 6
        case .tanh: return tanhf(x)
        case .sigmoid: return 1 / (1 + expf(-x))
        case .gelu: return Float(0.5 * Double(x) * (1 + erf(Double(x) / 2.0.squareRoot())))
        case .silu: return x / (1 + expf(-x))
        case .mish: return x * tanhf(Self.softplus(x))
        case .softplus: return Self.softplus(x)
        case .relu6: return min(max(x, 0), 6)
        case .selu:
            let alpha: Float = 1.6732632423543772, scale: Float = 1.0507009873554805
            return scale * (x > 0 ? x : alpha * expm1f(x))
        case .celu: return max(x, 0) + min(0, expm1f(x))
        case .hardsigmoid: return min(max(x / 6 + 0.5, 0), 1)
        case .softsign: return x / (1 + abs(x))
        case .logsigmoid: return -Self.softplus(-x)
        case .tanhshrink: return x - tanhf(x)
        case .hardtanh: return min(max(x, -1), 1)
        }
    }

    /// torch's softplus (beta 1, threshold 20).
    static func softplus(_ x: Float) -> Float { x > 20 ? x : log1pf(expf(x)) }
}
