import Tensor

/// `nn.Conv2d` (square kernel, symmetric zero padding) with weight [out, in, k, k].
struct Conv2D {
    let weight: Tensor
    let bias: Tensor?
    let stride: Int
    let padding: Int

    init(_ scope: WeightScope, input: Int, output: Int, kernel: Int,
         stride: Int = 1, padding: Int? = nil, bias hasBias: Bool = true) throws {
        weight = try scope.weightMatrix("weight", shape: [output, input, kernel, kernel])
        bias = hasBias ? try scope.tensor("bias", shape: [output]) : nil
        self.stride = stride
        self.padding = padding ?? (kernel - 1) / 2
    }

    func callAsFunction(_ x: Tensor) -> Tensor {
        conv2d(x, weight: weight, bias: bias, stride: stride, padding: padding)
    }
}
