import Tensor

/// `nn.Conv2d` (square kernel, symmetric zero padding) with weight [out, in, k, k].
struct Conv2D {
    let weight: Tensor
    let bias: Tensor?
    let stride: Int
    let padding: Int
    /// The weight in bf16 for jobs computing in bf16 (narrowed once, kept with the model).
    let bf16: BF16PackedWeight

    init(_ scope: WeightScope, input: Int, output: Int, kernel: Int,
         stride: Int = 1, padding: Int? = nil, bias hasBias: Bool = true) throws {
        weight = try scope.weightMatrix("weight", shape: [output, input, kernel, kernel])
        bias = hasBias ? try scope.tensor("bias", shape: [output]) : nil
        self.stride = stride
        self.padding = padding ?? (kernel - 1) / 2
        bf16 = scope.reader.bf16Pack(weight)
    }

    func callAsFunction(_ x: Tensor) -> Tensor {
        if ComputePrecision.current == .bf16 {
            return conv2dBF16(x, weight: bf16.tensor, bias: bias, stride: stride, padding: padding)
        }
        return conv2d(x, weight: weight, bias: bias, stride: stride, padding: padding)
    }
}
