import Models
import Tensor

/// One T2I-Adapter of a request (`adapters[i]`): the network, its control picture already at the output size,
/// its weight (diffusers' `adapter_conditioning_scale`) and its factor (`adapter_conditioning_factor`: the
/// fraction of the run's steps, from the first, that use it).
public struct T2IAdapterControl: @unchecked Sendable {
    public var name: String
    public var adapter: T2IAdapter
    /// [1, in_channels, H, W] in [0, 1], H × W the output size.
    public var image: Tensor
    public var weight: Double
    public var factor: Double

    public init(name: String, adapter: T2IAdapter, image: Tensor, weight: Double = 1, factor: Double = 1) {
        self.name = name
        self.adapter = adapter
        self.image = image
        self.weight = weight
        self.factor = factor
    }
}
