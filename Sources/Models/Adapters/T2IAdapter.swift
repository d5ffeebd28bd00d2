import Tensor
import Weights

/// A T2I-Adapter (diffusers' `T2IAdapter`: TencentARC's Adapter, Adapter-Light and the SDXL variant): a small
/// convolutional network that turns a control picture into one feature map per UNet level, computed once per
/// job and added inside the UNet's down blocks (`UNetConditioning.adapterFeatures`).
public struct T2IAdapter: Sendable {
    public let config: T2IAdapterConfig
    private let convIn: Conv2D?
    private let body: [Block]
    public let parameterCount: Int
    /// Bytes its weights occupy resident (16-bit weight matrices at 2 bytes per value), the bf16 copies the bf16
    /// path made included.
    public var residentBytes: Int { loadedBytes + bf16Packs.bytes }
    let loadedBytes: Int
    let bf16Packs: BF16PackLedger
    /// Bytes of the bf16 weight copies made so far (part of `residentBytes`) and those a bf16 job will still make.
    public var bf16PackBytes: Int { bf16Packs.bytes }
    public var bf16PendingBytes: Int { bf16Packs.pendingBytes }

    /// A level: optional 2×2 average pool, optional 1×1 projection, residual blocks, and (light) a 1×1 out conv.
    struct Block: @unchecked Sendable {
        let downsample: Bool
        let inConv: Conv2D?
        let resnets: [(block1: Conv2D, block2: Conv2D)]
        let outConv: Conv2D?

        func callAsFunction(_ x: Tensor) -> Tensor {
            var h = downsample ? T2IAdapter.averagePool2x2(x) : x
            if let inConv { h = inConv(h) }
            for (block1, block2) in resnets {
                var inner = block1(h)
                T2IAdapter.relu(&inner)
                h = block2(inner) + h
            }
            if let outConv { h = outConv(h) }
            return h
        }
    }

    /// Builds the network from diffusers-named weights (`adapter.conv_in.weight`, `adapter.body.0.resnets.0.block1.weight`, …);
    /// every tensor must be used.
    public init(config: T2IAdapterConfig, weights: any TensorSource) throws {
        try config.validate()
        self.config = config
        // Narrowed at load when the daemon computes in bf16, as the UNet's, so they are in the bytes measured then.
        let reader = WeightReader(weights, packBF16AtLoad: PrecisionSetting.forRequest(nil) == .bf16)
        let root = WeightScope(reader, path: "adapter")
        let c = config.channels
        let unshuffled = config.inChannels * config.downscaleFactor * config.downscaleFactor
        var blocks: [Block] = []
        if config.kind == .light {
            convIn = nil
        } else {
            convIn = try Conv2D(root["conv_in"], input: unshuffled, output: c[0], kernel: 3)
        }
        for i in 0 ..< config.levelCount {
            let (input, output, down) = config.level(i)
            let scope = root["body"][i]
            if config.kind == .light {
                let mid = output / 4
                let resnets = try (0 ..< config.numResBlocks).map { j in
                    (try Conv2D(scope["resnets"][j]["block1"], input: mid, output: mid, kernel: 3),
                     try Conv2D(scope["resnets"][j]["block2"], input: mid, output: mid, kernel: 3))
                }
                blocks.append(Block(downsample: down, inConv: try Conv2D(scope["in_conv"], input: input, output: mid, kernel: 1),
                                    resnets: resnets, outConv: try Conv2D(scope["out_conv"], input: mid, output: output, kernel: 1)))
            } else {
                let resnets = try (0 ..< config.numResBlocks).map { j in
                    (try Conv2D(scope["resnets"][j]["block1"], input: output, output: output, kernel: 3),
                     try Conv2D(scope["resnets"][j]["block2"], input: output, output: output, kernel: 1))
                }
                blocks.append(Block(downsample: down,
                                    inConv: input == output ? nil : try Conv2D(scope["in_conv"], input: input, output: output, kernel: 1),
                                    resnets: resnets, outConv: nil))
            }
        }
        body = blocks
        try reader.finish()
        parameterCount = reader.loadedElements
        loadedBytes = reader.loadedBytes
        bf16Packs = reader.bf16Packs
    }

    /// The feature maps for `image` [N, in_channels, H, W] in [0, 1], H and W multiples of `downscaleFactor`.
    public func features(_ image: Tensor) throws -> [Tensor] {
        let shape = image.shape
        guard shape.count == 4, shape[1] == config.inChannels, shape[2] > 0, shape[3] > 0 else {
            throw ModelLoadError.invalidConfig("the adapter takes [N, \(config.inChannels), H, W] pictures, got \(shape)")
        }
        let f = config.downscaleFactor
        guard shape[2] % f == 0, shape[3] % f == 0 else {
            throw ModelLoadError.invalidConfig("the adapter needs sides that are multiples of \(f), got \(shape[3])×\(shape[2])")
        }
        var x = PixelShuffle.unshuffle(image, factor: f)
        if let convIn { x = convIn(x) }
        var out: [Tensor] = []
        for block in body {
            x = block(x)
            out.append(x)
        }
        return out
    }

    /// `nn.AvgPool2d(2, stride 2, ceil_mode=True)`: a window hanging over the edge averages what it covers.
    static func averagePool2x2(_ x: Tensor) -> Tensor {
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (oh, ow) = ((h + 1) / 2, (w + 1) / 2)
        var out = Tensor(uninitializedShape: [n, c, oh, ow])
        x.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                guard let s = src.baseAddress, let d = dst.baseAddress else { return }
                Parallel.forEach(0 ..< (n * c)) { plane in
                    let source = s + plane * h * w, target = d + plane * oh * ow
                    for y in 0 ..< oh {
                        for xx in 0 ..< ow {
                            var sum: Float = 0
                            var count: Float = 0
                            for dy in 0 ..< 2 where 2 * y + dy < h {
                                for dx in 0 ..< 2 where 2 * xx + dx < w {
                                    sum += source[(2 * y + dy) * w + 2 * xx + dx]
                                    count += 1
                                }
                            }
                            target[y * ow + xx] = sum / count
                        }
                    }
                }
            }
        }
        return out
    }

    /// `nn.ReLU`, in place on a conv output nobody else holds.
    static func relu(_ x: inout Tensor) {
        x.withUnsafeMutableBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return }
            Parallel.forEachSlice(count: buffer.count, grain: 1 << 14) { range in
                let p = base + range.lowerBound
                for i in 0 ..< range.count where p[i] < 0 { p[i] = 0 }
            }
        }
    }
}
