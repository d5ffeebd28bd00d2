import Tensor

/// `nn.Linear` with PyTorch's weight layout [out, in].
struct Linear {
    let weight: Tensor
    let bias: Tensor?
    /// The weight in bf16 for jobs computing in bf16 (narrowed once, kept with the model).
    let bf16: BF16PackedWeight

    init(_ scope: WeightScope, input: Int, output: Int, bias hasBias: Bool = true) throws {
        weight = try scope.weightMatrix("weight", shape: [output, input])
        bias = hasBias ? try scope.tensor("bias", shape: [output]) : nil
        bf16 = scope.reader.bf16Pack(weight)
    }

    /// A 1×1 convolution stored as [out, in, 1, 1] used as a linear map over channels-last tokens
    /// (identical arithmetic; saves permuting the activations twice).
    init(conv1x1 scope: WeightScope, input: Int, output: Int) throws {
        weight = try scope.weightMatrix("weight", shape: [output, input, 1, 1]).reshaped([output, input])
        bias = try scope.tensor("bias", shape: [output])
        bf16 = scope.reader.bf16Pack(weight)
    }

    func callAsFunction(_ x: Tensor) -> Tensor {
        if ComputePrecision.current == .bf16 { return linearBF16(x, weight: bf16.tensor, bias: bias) }
        return linear(x, weight: weight, bias: bias)
    }
}
