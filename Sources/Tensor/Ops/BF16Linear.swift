import TensorKernels

/// y = x Wᵀ + b in bf16 compute: x [..., in] is narrowed to bf16 once (round to nearest even), multiplied by bf16
/// weights [out, in] with fp32 accumulation (`tk_bf16_gemm_nt`: AVX512_BF16 or the scalar fallback, chosen at run
/// time), and the bias is added in fp32, as PyTorch's bf16 autocast does for `nn.Linear`. Output is fp32.
public func linearBF16(_ x: Tensor, weight: Tensor, bias: Tensor?) -> Tensor {
    precondition(weight.rank == 2 && weight.elementType == .bfloat16,
                 "linearBF16: weight \(weight.shape) \(weight.elementType) must be bf16 [out, in] (bf16Weights)")
    let outFeatures = weight.shape[0], inFeatures = weight.shape[1]
    precondition(x.rank >= 1 && x.shape[x.rank - 1] == inFeatures,
                 "linearBF16: input \(x.shape) does not end in \(inFeatures) features of weight \(weight.shape)")
    if let bias { precondition(bias.shape == [outFeatures], "linearBF16: bias \(bias.shape) vs weight \(weight.shape)") }
    let rows = x.shape.dropLast().reduce(1, *)
    var outShape = x.shape
    outShape[outShape.count - 1] = outFeatures
    let result = Tensor(uninitializedShape: outShape)
    guard rows > 0, outFeatures > 0 else { return result }
    let input = bf16Weights(x).storage
    let a = UnsafePointer(input.address.assumingMemoryBound(to: UInt16.self))
    let w = UnsafePointer(weight.storage.address.assumingMemoryBound(to: UInt16.self))
    let output = result.storage.pointer
    let biasPointer = bias.map { UnsafePointer($0.storage.pointer) }
    // Threads take slices of output features: each streams only its weight rows, once per row block.
    Parallel.forEachSlice(count: outFeatures, grain: max(1, (1 << 16) / max(1, rows * inFeatures))) { range in
        tk_bf16_gemm_nt(a, inFeatures, w + range.lowerBound * inFeatures, inFeatures, output + range.lowerBound,
                        outFeatures, rows, range.count, inFeatures)
        if let biasPointer {
            for row in 0..<rows {
                for j in range { output[row * outFeatures + j] += biasPointer[j] }
            }
        }
    }
    withExtendedLifetime((input, weight, bias)) {}
    return result
}

/// `tensor` as bf16 storage (round to nearest even), made once per weight: bf16 as it is, fp16 or fp32 narrowed.
public func bf16Weights(_ tensor: Tensor) -> Tensor {
    if tensor.elementType == .bfloat16 { return tensor }
    let wide = tensor.storage.widenedToFloat32()
    guard let narrow = wide.narrowed(to: .bfloat16, exactOnly: false) else {
        preconditionFailure("bf16Weights: float32 storage always narrows")
    }
    return Tensor(shape: tensor.shape, storage: narrow)
}
