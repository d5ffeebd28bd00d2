import Foundation

/// What a model's files say about it without loading it, for `models.list`, remembered per file stamp so a
/// listing re-reads only files that changed.
public final class ModelDescriber: @unchecked Sendable {
    public struct Description: Sendable, Equatable {
        public var details: [String: String]
        public var problem: String?
        public init(details: [String: String] = [:], problem: String? = nil) {
            self.details = details
            self.problem = problem
        }
    }

    public typealias Probe = (_ kind: ModelKind, _ path: String) -> Description

    private let probe: Probe
    private let lock = NSLock()
    private var memo: [String: (stamp: FileStamp?, description: Description)] = [:]

    public init(probe: @escaping Probe = { _, _ in Description() }) {
        self.probe = probe
    }

    public func describe(kind: ModelKind, path: String) -> Description {
        let stamp = FileStamp(path: path)
        let key = "\(kind.rawValue)\u{0}\(path)"
        if let hit = lock.withLock({ memo[key] }), hit.stamp == stamp { return hit.description }
        let description = probe(kind, path)
        lock.withLock { memo[key] = (stamp, description) }
        return description
    }

    /// The kind a single file's tensors say it is, when the probe can tell.
    public func kind(ofFile path: String) -> ModelKind? {
        describe(kind: .upscaler, path: path).details["architecture"] != nil ? .upscaler : nil
    }
}
