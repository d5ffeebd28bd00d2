import Tensor

/// The pointwise nonlinearities configs name (`hidden_act`, `act_fn`).
enum Activation {
    case sigmoidLinear, erfGelu, tanhGelu, quick

    init(configName name: String, field: String) throws {
        switch name {
        case "silu", "swish": self = .sigmoidLinear
        case "gelu": self = .erfGelu
        case "gelu_pytorch_tanh", "gelu_new", "gelu_fast": self = .tanhGelu
        case "quick_gelu": self = .quick
        default: throw ModelLoadError.unsupportedConfig(field: field, value: name)
        }
    }

    func callAsFunction(_ x: Tensor) -> Tensor {
        switch self {
        case .sigmoidLinear: return silu(x)
        case .erfGelu: return gelu(x)
        case .tanhGelu: return geluTanh(x)
        case .quick: return quickGelu(x)
        }
    }
}
