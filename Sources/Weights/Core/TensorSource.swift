import Tensor

/// One checkpoint, whatever its format: a set of named tensors, converted to float32 on access.
public protocol TensorSource {
    /// All tensor names, in a stable order (sorted, unless the format defines an order).
    var names: [String] { get }
    /// The shape of a tensor without loading it; nil if there is no such tensor.
    func shape(of name: String) -> [Int]?
    /// The tensor converted to float32; throws a `WeightsError` naming the tensor and file.
    func tensor(_ name: String) throws -> Tensor
    /// The tensor in the storage a network keeps resident, `resident` choosing it from the float32 one.
    /// Sources that keep what they hand out (recording wrappers) override this to keep the resident form.
    func residentTensor(_ name: String, _ resident: (Tensor) -> Tensor) throws -> Tensor
}

extension TensorSource {
    public func residentTensor(_ name: String, _ resident: (Tensor) -> Tensor) throws -> Tensor {
        resident(try tensor(name))
    }

    public func contains(_ name: String) -> Bool { shape(of: name) != nil }

    /// Strict loading for models: the tensor must exist with exactly this shape (checked before any
    /// data is read or converted).
    public func tensor(_ name: String, shape expected: [Int]) throws -> Tensor {
        guard let actual = shape(of: name) else { throw WeightsError.missingTensor(tensor: name) }
        guard actual == expected else { throw WeightsError.shapeMismatch(tensor: name, expected: expected, actual: actual) }
        return try tensor(name)
    }
}

/// The tensors of `base` whose names start with `prefix`, presented with the prefix removed
/// (for example the UNet of a single-file checkpoint under "model.diffusion_model.").
public struct PrefixedSource: TensorSource {
    public let base: any TensorSource
    public let prefix: String
    public let names: [String]

    public init(_ base: any TensorSource, prefix: String) {
        self.base = base
        self.prefix = prefix
        self.names = base.names.compactMap { $0.hasPrefix(prefix) ? String($0.dropFirst(prefix.count)) : nil }
    }

    public func shape(of name: String) -> [Int]? { base.shape(of: prefix + name) }
    public func tensor(_ name: String) throws -> Tensor { try base.tensor(prefix + name) }
}
