import Foundation

/// A resident model as `status` and `models.*` report it.
public struct ResidentModelInfo: Sendable, Equatable {
    public let key: ModelKey
    public let path: String
    /// What the memory budget counts for it: float32 bytes of its weights, plus `patchedBytes`.
    public let bytes: Int
    public let loadedAt: Date
    /// What was detected at load: family, prediction type, architecture, scale (strings, for listing).
    public let details: [String: String]
    /// A checkpoint's copies of the tensors its kept LoRA set patched (0 when none is kept), included in `bytes`.
    public var patchedBytes: Int = 0

    public init(key: ModelKey, path: String, bytes: Int, loadedAt: Date, details: [String: String], patchedBytes: Int = 0) {
        self.key = key
        self.path = path
        self.bytes = bytes
        self.loadedAt = loadedAt
        self.details = details
        self.patchedBytes = patchedBytes
    }

    /// The same model with `patched` bytes of patched copies held beside its weights (as loaded: `patchedBytes` 0).
    func withPatchedBytes(_ patched: Int) -> ResidentModelInfo {
        ResidentModelInfo(key: key, path: path, bytes: bytes - patchedBytes + patched, loadedAt: loadedAt, details: details,
                          patchedBytes: patched)
    }

    /// The same model holding `extra` more bytes (bf16 weight copies made after it was measured).
    func grown(by extra: Int) -> ResidentModelInfo {
        ResidentModelInfo(key: key, path: path, bytes: bytes + extra, loadedAt: loadedAt, details: details, patchedBytes: patchedBytes)
    }
}
