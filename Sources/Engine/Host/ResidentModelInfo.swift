import Foundation

/// A resident model as `status` and `models.*` report it.
public struct ResidentModelInfo: Sendable, Equatable {
    public let key: ModelKey
    public let path: String
    /// What the memory budget counts for it (float32 bytes of its weights).
    public let bytes: Int
    public let loadedAt: Date
    /// What was detected at load: family, prediction type, architecture, scale (strings, for listing).
    public let details: [String: String]
}
