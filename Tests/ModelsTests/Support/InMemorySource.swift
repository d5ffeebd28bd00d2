import Models
import Tensor
import Weights

/// A `TensorSource` held in memory, so tests can load a real checkpoint and then remove, reshape or add
/// tensors to check that loading is strict.
struct InMemorySource: TensorSource {
    var tensors: [String: Tensor]

    init(_ tensors: [String: Tensor]) { self.tensors = tensors }

    /// Copies the tensors of `source` into memory (all, or those `including` accepts).
    init(copying source: TensorSource, including: (String) -> Bool = { _ in true }) throws {
        var all: [String: Tensor] = [:]
        for name in source.names where including(name) { all[name] = try source.tensor(name) }
        tensors = all
    }

    var names: [String] { tensors.keys.sorted() }
    func shape(of name: String) -> [Int]? { tensors[name]?.shape }
    func tensor(_ name: String) throws -> Tensor {
        guard let value = tensors[name] else { throw InMemorySourceError.missing(name) }
        return value
    }
}

enum InMemorySourceError: Error { case missing(String) }
