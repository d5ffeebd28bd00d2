import Tensor

/// A super-resolution network: RGB in [0, 1] as [N, 3, H, W] -> RGB as [N, 3, H·scale, W·scale] (not clamped;
/// callers clamp to [0, 1] as Real-ESRGAN's inference does).
public protocol UpscalerNetwork: AnyObject, Sendable {
    /// Output pixels per input pixel.
    var scale: Int { get }
    /// Input sides must be multiples of this (RRDBNet ×2/×1 pixel-unshuffle their input by 2/4).
    var inputMultiple: Int { get }
    /// Resident float32 parameters, for memory accounting.
    var parameterCount: Int { get }
    /// Bytes its weights occupy resident.
    var residentBytes: Int { get }
    /// How far, in input pixels, an output pixel's value reaches in each direction through the 3×3 convolutions
    /// (the theoretical receptive field's radius): tiles need this much context to equal the untiled result.
    var receptiveRadius: Int { get }
    func forward(_ x: Tensor) -> Tensor
}

/// Runs `body` on each sample of a batch and stacks the results (the networks work one image at a time so
/// their scratch buffers stay the size of one tile).
func perSample(_ x: Tensor, _ body: (Tensor) -> Tensor) -> Tensor {
    if x.shape[0] == 1 { return body(x) }
    return concat((0..<x.shape[0]).map { body(x[batch: $0].reshaped([1] + Array(x.shape.dropFirst()))) }, axis: 0)
}

/// A [1, channels, H, W] view of the first `channels` channels of a [1, C, H, W] tensor, without copying
/// (NCHW keeps them contiguous). `owner` keeps the memory alive.
func leadingChannels(_ x: Tensor, _ channels: Int) -> Tensor {
    let (h, w) = (x.shape[2], x.shape[3])
    let storage = TensorStorage(borrowing: UnsafePointer(x.storage.pointer), count: channels * h * w, owner: x.storage)
    return Tensor(shape: [1, channels, h, w], storage: storage)
}
