import Foundation
import Tensor
import Weights

/// Passes a source through to a network being built and keeps every tensor it handed out, so the network's
/// weights can later be presented again (`ComponentWeights`) without reopening or re-converting the file.
/// The kept tensors are the very ones the network holds (storage is shared, nothing is copied).
final class RecordingSource: TensorSource, @unchecked Sendable {
    private let base: any TensorSource
    private let lock = NSLock()
    private var handedOut: [String: Tensor] = [:]

    init(_ base: any TensorSource) {
        self.base = base
    }

    var names: [String] { base.names }
    func shape(of name: String) -> [Int]? { base.shape(of: name) }

    func tensor(_ name: String) throws -> Tensor {
        let value = try base.tensor(name)
        lock.withLock { handedOut[name] = value }
        return value
    }

    /// Keeps the resident form (a 16-bit weight), not the float32 copy it was made from.
    func residentTensor(_ name: String, _ resident: (Tensor) -> Tensor) throws -> Tensor {
        let value = try base.residentTensor(name, resident)
        lock.withLock { handedOut[name] = value }
        return value
    }

    /// What the network consumed, with the shapes of every name the source offered (layers a network only
    /// validates, like SD2's skipped last text layer, keep their shape and no data).
    func snapshot() -> ComponentWeights {
        let shapes = Dictionary(uniqueKeysWithValues: base.names.compactMap { name in base.shape(of: name).map { (name, $0) } })
        return lock.withLock { ComponentWeights(tensors: handedOut, shapes: shapes) }
    }
}
