/// The PyTorch names Real-ESRGAN's networks are published with, recovered from an ncnn export by
/// layer order (the exporters keep module order), so .pth, .safetensors and ncnn models can feed
/// one upscaler code path.
public enum RealESRGANArchitecture: Equatable, Sendable {
    /// RRDBNet (ESRGAN, RealESRGAN_x4plus, x4plus_anime_6B): `blocks` RRDB blocks of 3 RDBs x 5 convs.
    case rrdbNet(blocks: Int)
    /// SRVGGNetCompact (realesr-animevideov3, realesr-general): `convs` body convs, each with PReLU.
    case srvggNetCompact(convs: Int)
}

extension NCNNModel {
    /// Detects the architecture from the weighted layers: PReLU layers mean SRVGGNetCompact; plain
    /// convolutions numbering 6 + 15·n mean RRDBNet with n blocks.
    public func realESRGANArchitecture() throws -> RealESRGANArchitecture {
        let weighted = layers.filter { $0.type == "Convolution" || $0.type == "PReLU" }
        let convs = weighted.filter { $0.type == "Convolution" }.count
        let prelus = weighted.count - convs
        if prelus > 0 {
            // conv, prelu, (conv, prelu) * n, conv
            let alternating = weighted.enumerated().allSatisfy { i, l in
                i == weighted.count - 1 ? l.type == "Convolution" : l.type == (i % 2 == 0 ? "Convolution" : "PReLU")
            }
            guard alternating, convs == prelus + 1, convs >= 2 else {
                throw WeightsError.invalidCheckpoint(path: paramPath, detail: "\(convs) convolutions and \(prelus) PReLUs do not form an SRVGGNetCompact")
            }
            return .srvggNetCompact(convs: convs - 2)
        }
        guard convs > 6, (convs - 6) % 15 == 0 else {
            throw WeightsError.invalidCheckpoint(path: paramPath, detail: "\(convs) convolutions do not form an RRDBNet (6 + 15 per block)")
        }
        return .rrdbNet(blocks: (convs - 6) / 15)
    }

    /// PyTorch module names of the weighted layers, in ncnn layer order.
    public static func pytorchModuleNames(for architecture: RealESRGANArchitecture) -> [String] {
        switch architecture {
        case let .rrdbNet(blocks):
            var names = ["conv_first"]
            for b in 0..<blocks {
                for rdb in 1...3 {
                    for c in 1...5 { names.append("body.\(b).rdb\(rdb).conv\(c)") }
                }
            }
            return names + ["conv_body", "conv_up1", "conv_up2", "conv_hr", "conv_last"]
        case let .srvggNetCompact(convs):
            // body = [conv, prelu, (conv, prelu) * convs, conv] as a ModuleList.
            return (0..<(2 * convs + 3)).map { "body.\($0)" }
        }
    }

    /// This model's weights under Real-ESRGAN's PyTorch names (e.g. "conv_first.weight",
    /// "body.3.rdb2.conv4.bias", "body.1.weight" for a PReLU).
    public func pytorchNamed() throws -> RenamedSource {
        let modules = Self.pytorchModuleNames(for: try realESRGANArchitecture())
        var mapping: [String: String] = [:]
        var i = 0
        for (layer, w) in zip(layers, weights) where layer.type == "Convolution" || layer.type == "PReLU" {
            for x in w { mapping["\(modules[i]).\(x.role)"] = "\(layer.name).\(x.role)" }
            i += 1
        }
        return RenamedSource(self, mapping: mapping)
    }
}
