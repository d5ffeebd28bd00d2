import Imaging
import Models
import Tensor

/// An `adapters[i]` entry before it is fitted to a run: the loaded adapter and the picture as the client sent
/// it. Each operation fits the picture as it fits its image (img2img's resize mode, inpaint's region), then
/// `control(fitted:)` makes what the engine runs.
public struct T2IAdapterPicture: @unchecked Sendable {
    public var index: Int
    public var name: String
    public var adapter: T2IAdapter
    public var picture: VipsImage
    public var weight: Double
    public var factor: Double

    public init(index: Int, name: String, adapter: T2IAdapter, picture: VipsImage, weight: Double, factor: Double) {
        self.index = index
        self.name = name
        self.adapter = adapter
        self.picture = picture
        self.weight = weight
        self.factor = factor
    }

    /// `fitted` (at the output size) as the adapter takes it: RGB in [0, 1], or for a one-channel (sketch)
    /// adapter its luminance as PIL's convert("L") makes it, alpha dropped.
    public func control(fitted: VipsImage) throws -> T2IAdapterControl {
        let tensor: Tensor
        do {
            if adapter.config.inChannels == 1 {
                tensor = try Mask(maskImage: fitted).toTensor()
            } else {
                let planes = try fitted.planarUnitRGB()
                tensor = Tensor(shape: [1, 3, planes.height, planes.width], values: planes.values)
            }
        } catch let error as ImagingError {
            throw EngineError.invalidParameter(field: "adapters[\(index)].image", reason: error.description)
        }
        guard tensor.shape[1] == adapter.config.inChannels else {
            throw EngineError.invalidParameter(field: "adapters[\(index)].model",
                reason: "\(name) takes \(adapter.config.inChannels)-channel pictures")
        }
        return T2IAdapterControl(name: name, adapter: adapter, image: tensor, weight: weight, factor: factor)
    }
}
