import Foundation
import Tensor
import Weights

/// Why an upscaler file could not be turned into a network.
public enum UpscalerLoadError: Error, CustomStringConvertible, Equatable {
    case unsupportedFile(path: String)
    case missingCompanion(path: String, expected: String)
    case unknownArchitecture(path: String, detail: String)

    public var description: String {
        switch self {
        case let .unsupportedFile(path):
            return "\(path): not an upscaler file (expected .safetensors, .pth/.pt or an ncnn .param with its .bin)"
        case let .missingCompanion(path, expected):
            return "\(path): the ncnn weights \(expected) are missing next to it"
        case let .unknownArchitecture(path, detail):
            return "\(path): not an RRDBNet or SRVGGNetCompact checkpoint (\(detail))"
        }
    }
}

/// A loaded upscaler: the network plus the scale the published file promises.
///
/// `declaredScale` differs from the network's scale only for the realesr-animevideov3 ×2/×3 ncnn exports,
/// which are the ×4 network followed by a bicubic downscaling `Interp` layer (factor 0.5 / 0.75). We run the ×4
/// network and let the caller resize to the declared size with libvips (the upscale pipeline resizes to the
/// exact requested size anyway), rather than imitating ncnn's non-antialiased bicubic sampling.
public struct UpscalerModel: Sendable {
    public let network: any UpscalerNetwork
    public let declaredScale: Double
    public let path: String
    public let architecture: String

    public init(network: any UpscalerNetwork, declaredScale: Double? = nil, path: String = "", architecture: String) {
        self.network = network
        self.declaredScale = declaredScale ?? Double(network.scale)
        self.path = path
        self.architecture = architecture
    }

    /// Whether a source holds a network under basicsr's names (what `network(from:path:)` builds).
    public static func isUpscaler(_ weights: any TensorSource) -> Bool {
        weights.contains("conv_first.weight") || weights.contains("body.0.weight")
    }

    /// The architecture `network(from:path:)` would build and its scale, from names and shapes only.
    public static func architecture(of weights: any TensorSource, path: String) throws -> (name: String, scale: Int) {
        if weights.contains("conv_first.weight") { return ("RRDBNet", try RRDBNet.structure(of: weights).scale) }
        if weights.contains("body.0.weight") { return ("SRVGGNetCompact", try SRVGGNetCompact.structure(of: weights).scale) }
        throw UpscalerLoadError.unknownArchitecture(path: path, detail: "neither conv_first.weight nor body.0.weight")
    }

    /// Builds the network from a source with basicsr's names: SRVGGNetCompact when `body.0.weight` is there,
    /// RRDBNet when `conv_first.weight` is.
    public static func network(from weights: any TensorSource, path: String) throws -> (any UpscalerNetwork, String) {
        if weights.contains("conv_first.weight") { return (try RRDBNet(weights: weights), "RRDBNet") }
        if weights.contains("body.0.weight") { return (try SRVGGNetCompact(weights: weights), "SRVGGNetCompact") }
        throw UpscalerLoadError.unknownArchitecture(path: path, detail: "neither conv_first.weight nor body.0.weight")
    }

    /// Loads `.safetensors`, `.pth`/`.pt` (restricted unpickler; `params_ema`/`params` state dicts unwrapped) or
    /// ncnn `.param` (+ the `.bin` beside it).
    public static func load(path: String) throws -> UpscalerModel {
        let ext = (path as NSString).pathExtension.lowercased()
        switch ext {
        case "safetensors":
            let (net, arch) = try network(from: try SafeTensorsFile(path: path), path: path)
            return UpscalerModel(network: net, path: path, architecture: arch)
        case "pth", "pt", "ckpt":
            let (net, arch) = try network(from: try TorchCheckpoint(path: path), path: path)
            return UpscalerModel(network: net, path: path, architecture: arch)
        case "param":
            let bin = (path as NSString).deletingPathExtension + ".bin"
            guard FileManager.default.fileExists(atPath: bin) else {
                throw UpscalerLoadError.missingCompanion(path: path, expected: bin)
            }
            let model = try NCNNModel(paramPath: path, binPath: bin)
            let (net, arch) = try network(from: try model.pytorchNamed(), path: path)
            return UpscalerModel(network: net, declaredScale: Double(net.scale) * trailingResize(of: model),
                                 path: path, architecture: arch)
        default:
            throw UpscalerLoadError.unsupportedFile(path: path)
        }
    }

    /// The factor of an `Interp` layer that produces the ncnn graph's final blob (1 when there is none).
    static func trailingResize(of model: NCNNModel) -> Double {
        guard let last = model.layers.last, last.type == "Interp" else { return 1 }
        let factor = last.params.float(1, default: 1)
        return factor > 0 && factor < 1 ? Double(factor) : 1
    }
}
