import Tensor

/// Presents the tensors of `base` under new names (`mapping[newName] = baseName`); names not in the
/// mapping are hidden.
public struct RenamedSource: TensorSource {
    public let base: any TensorSource
    public let mapping: [String: String]
    public let names: [String]

    public init(_ base: any TensorSource, mapping: [String: String]) {
        self.base = base
        self.mapping = mapping
        self.names = mapping.keys.sorted()
    }

    public func shape(of name: String) -> [Int]? { mapping[name].flatMap { base.shape(of: $0) } }

    public func tensor(_ name: String) throws -> Tensor {
        guard let original = mapping[name] else {
            throw WeightsError.tensorNotFound(path: "renamed view", tensor: name)
        }
        return try base.tensor(original)
    }
}
