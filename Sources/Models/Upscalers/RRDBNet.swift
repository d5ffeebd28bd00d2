import Tensor
import Weights

/// ESRGAN's RRDBNet as basicsr defines it (Real-ESRGAN x4plus, x4plus-anime-6B, ESRGAN): conv_first, `blocks`
/// Residual-in-Residual Dense Blocks (3 dense blocks of 5 convs each, residuals scaled by 0.2), conv_body with a
/// global skip, two nearest ×2 upsamples each followed by a conv + LeakyReLU(0.2), conv_hr, conv_last.
///
/// Everything is read from the weights: feature width from conv_first, growth channels from the first dense
/// conv, block count from the `body.N` names, and the scale from conv_first's input channels — basicsr's ×2
/// and ×1 models pixel-unshuffle the input by 2 and 4 first (12 and 48 channels), so the net always runs the
/// same ×4 trunk.
public final class RRDBNet: UpscalerNetwork, @unchecked Sendable {
    public let scale: Int
    public let blocks: Int
    public let features: Int
    public let growth: Int
    public let parameterCount: Int
    /// Bytes its weights occupy resident (16-bit weight matrices at 2 bytes per value).
    public let residentBytes: Int
    public var inputMultiple: Int { 4 / scale }
    /// conv_first, 15 convs per RRDB and conv_body at the trunk's resolution (input / `inputMultiple`), then four
    /// convs at ×2 and ×4 (under one input pixel together, rounded up to one).
    public var receptiveRadius: Int { Self.receptiveRadius(blocks: blocks, scale: scale) }

    public static func receptiveRadius(blocks: Int, scale: Int) -> Int { (2 + 15 * blocks) * (4 / scale) + 1 }

    private let convFirst: Conv2D
    private let body: [RRDB]
    private let convBody: Conv2D
    private let up1: SubpixelUpsampleConv
    private let up2: SubpixelUpsampleConv
    private let convHR: Conv2D
    private let convLast: Conv2D

    /// What the weights' names and shapes say, before any tensor is read (also what `ModelProbe` reports).
    public struct Structure: Equatable, Sendable {
        public let scale: Int
        public let inChannels: Int
        public let features: Int
        public let growth: Int
        public let blocks: Int
    }

    public static func structure(of weights: any TensorSource) throws -> Structure {
        guard let first = weights.shape(of: "conv_first.weight"), first.count == 4 else {
            throw ModelLoadError.missingTensor(name: "conv_first.weight", expectedShape: [64, 3, 3, 3])
        }
        let features = first[0]
        let scale: Int
        switch first[1] {
        case 3: scale = 4
        case 12: scale = 2
        case 48: scale = 1
        default: throw ModelLoadError.unsupportedConfig(field: "conv_first input channels (3 = x4, 12 = x2, 48 = x1)", value: "\(first[1])")
        }
        guard let dense = weights.shape(of: "body.0.rdb1.conv1.weight"), dense.count == 4 else {
            throw ModelLoadError.missingTensor(name: "body.0.rdb1.conv1.weight", expectedShape: [32, features, 3, 3])
        }
        var count = 0
        while weights.contains("body.\(count).rdb1.conv1.weight") { count += 1 }
        try requirePositive([features, dense[0], count], "RRDBNet features/growth/blocks")
        return Structure(scale: scale, inChannels: first[1], features: features, growth: dense[0], blocks: count)
    }

    /// `weights` must carry basicsr's names ("conv_first.weight", "body.0.rdb1.conv1.weight", …) and nothing else.
    public init(weights: any TensorSource) throws {
        let structure = try Self.structure(of: weights)
        scale = structure.scale
        features = structure.features
        growth = structure.growth
        blocks = structure.blocks
        let count = structure.blocks

        let reader = WeightReader(weights)
        let root = WeightScope(reader)
        convFirst = try Conv2D(root["conv_first"], input: structure.inChannels, output: features, kernel: 3)
        let (f, g) = (features, growth)
        body = try (0..<count).map { try RRDB(root["body"][$0], features: f, growth: g) }
        convBody = try Conv2D(root["conv_body"], input: features, output: features, kernel: 3)
        let u1 = try Conv2D(root["conv_up1"], input: features, output: features, kernel: 3)
        let u2 = try Conv2D(root["conv_up2"], input: features, output: features, kernel: 3)
        // Nearest ×2 then 3×3 conv, fused so the 4×-sized upsampled activation is never built.
        up1 = SubpixelUpsampleConv(weight: u1.weight, bias: u1.bias ?? Tensor.zeros([f]))
        up2 = SubpixelUpsampleConv(weight: u2.weight, bias: u2.bias ?? Tensor.zeros([f]))
        convHR = try Conv2D(root["conv_hr"], input: features, output: features, kernel: 3)
        let outChannels = weights.shape(of: "conv_last.weight")?.first ?? 3
        convLast = try Conv2D(root["conv_last"], input: features, output: outChannels, kernel: 3)
        try reader.finish()
        parameterCount = reader.loadedElements
        residentBytes = reader.loadedBytes
    }

    public func forward(_ x: Tensor) -> Tensor {
        perSample(x) { sample in
            let input = scale == 4 ? sample : PixelShuffle.unshuffle(sample, factor: 4 / scale)
            var feat = convFirst(input)
            var trunk = feat
            for block in body { trunk = block(trunk) }
            feat.addInPlace(convBody(trunk))
            var up = up1(feat)
            UpscalerOps.leakyReLU(&up)
            up = up2(up)
            UpscalerOps.leakyReLU(&up)
            var hr = convHR(up)
            UpscalerOps.leakyReLU(&hr)
            return convLast(hr)
        }
    }
}

/// Residual-in-Residual Dense Block: three dense blocks, output = rdb3(rdb2(rdb1(x))) · 0.2 + x.
struct RRDB {
    let rdbs: [ResidualDenseBlock]

    init(_ scope: WeightScope, features: Int, growth: Int) throws {
        rdbs = try (1...3).map { try ResidualDenseBlock(scope["rdb\($0)"], features: features, growth: growth) }
    }

    func callAsFunction(_ x: Tensor) -> Tensor {
        var out = x
        for rdb in rdbs { out = rdb(out) }
        var result = x
        result.addInPlace(out, scale: 0.2)
        return result
    }
}

/// Five 3×3 convs, each seeing the block input and all previous outputs concatenated; LeakyReLU(0.2) after the
/// first four; output = conv5 · 0.2 + x.
///
/// The concatenations are one buffer [x | x1 | x2 | x3 | x4] filled as the convs run: conv k reads the
/// leading channels of it in place (NCHW keeps them contiguous), so no concat copy is ever made.
struct ResidualDenseBlock {
    let convs: [Conv2D]
    let features: Int
    let growth: Int

    init(_ scope: WeightScope, features: Int, growth: Int) throws {
        self.features = features
        self.growth = growth
        convs = try (1...5).map { k in
            try Conv2D(scope["conv\(k)"], input: features + (k - 1) * growth, output: k == 5 ? features : growth, kernel: 3)
        }
    }

    func callAsFunction(_ x: Tensor) -> Tensor {
        precondition(x.shape[0] == 1, "dense blocks run one sample at a time")
        let (h, w) = (x.shape[2], x.shape[3])
        let plane = h * w
        let dense = Tensor(uninitializedShape: [1, features + 4 * growth, h, w])
        let target = dense.storage.pointer
        x.withUnsafeBufferPointer { if let base = $0.baseAddress { target.update(from: base, count: features * plane) } }
        for k in 0..<4 {
            let channels = features + k * growth
            var y = convs[k](leadingChannels(dense, channels))
            UpscalerOps.leakyReLU(&y)
            y.withUnsafeBufferPointer { if let base = $0.baseAddress { (target + channels * plane).update(from: base, count: growth * plane) } }
        }
        let x5 = convs[4](dense)
        var result = x
        result.addInPlace(x5, scale: 0.2)
        return result
    }
}
