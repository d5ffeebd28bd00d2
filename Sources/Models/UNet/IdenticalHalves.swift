import Foundation
import Synchronization
import Tensor

/// Classifier-free guidance runs the UNet (and each ControlNet) on [unconditional, conditional] rows whose
/// latents, timestep and control hint are the same; only the text differs. So until the first cross-attention,
/// the two halves of the batch compute the same values: conv_in, the first resnet and the first transformer's
/// self-attention (SD 1.x/2.x, whose time embedding holds no text) run on one half and are then doubled. The
/// halves are compared bit for bit, so any batch whose halves differ (SDXL's pooled text in the time embedding,
/// a batch without guidance) runs as it is.
enum IdenticalHalves {
    /// Off for tests that compare the shared path with the plain one (`UNet.sharesIdenticalGuidanceHalves`).
    static var enabled: Bool {
        get { switchedOn.load(ordering: .relaxed) }
        set { switchedOn.store(newValue, ordering: .relaxed) }
    }
    private static let switchedOn = Atomic<Bool>(true)
    /// Passes that took the shared path (for tests to see that it ran).
    static var sharedPasses: Int { sharedPassCount.load(ordering: .relaxed) }
    static let sharedPassCount = Atomic<Int>(0)

    /// Whether every tensor has an even batch of at least 2 whose first half equals its second bit for bit.
    static func hold(_ tensors: [Tensor]) -> Bool {
        guard enabled else { return false }
        return tensors.allSatisfy { tensor in
            guard let batch = tensor.shape.first, batch >= 2, batch % 2 == 0 else { return false }
            return tensor.withUnsafeBufferPointer { values in
                guard let base = values.baseAddress else { return false }
                let half = values.count / 2
                return memcmp(base, base + half, half * MemoryLayout<Float>.stride) == 0
            }
        }
    }

    /// The first half of the batch (dimension 0), as a read-only view of x's memory: the batch is the outermost
    /// dimension, so its first half is contiguous, and copying it (or both halves, as `split` does) is not needed.
    static func firstHalf(_ x: Tensor) -> Tensor {
        var shape = x.shape
        shape[0] /= 2
        let count = x.count / 2
        let storage = TensorStorage(borrowing: x.storage.address, count: count, elementType: x.storage.elementType,
                                    owner: x.storage)
        return Tensor(shape: shape, storage: storage)
    }

    /// x twice along the batch.
    static func doubled(_ x: Tensor) -> Tensor { concat([x, x], axis: 0) }
}
