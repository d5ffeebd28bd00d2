import Tensor

/// Several sources presented as one (sharded checkpoints). A name present in two sources is an
/// error rather than a silent choice.
public struct CombinedSource: TensorSource {
    public let sources: [any TensorSource]
    public let names: [String]
    private let owner: [String: Int]

    /// `label` names the combination in errors (e.g. the index file).
    public init(_ sources: [any TensorSource], label: String) throws {
        var owner: [String: Int] = [:]
        for (i, s) in sources.enumerated() {
            for n in s.names {
                guard owner[n] == nil else { throw WeightsError.duplicateTensor(path: label, tensor: n) }
                owner[n] = i
            }
        }
        self.sources = sources
        self.owner = owner
        self.names = owner.keys.sorted()
    }

    public func shape(of name: String) -> [Int]? { owner[name].flatMap { sources[$0].shape(of: name) } }

    public func tensor(_ name: String) throws -> Tensor {
        guard let i = owner[name] else { throw WeightsError.tensorNotFound(path: "combined source", tensor: name) }
        return try sources[i].tensor(name)
    }
}
