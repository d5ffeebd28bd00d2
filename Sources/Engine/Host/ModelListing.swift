/// One model the daemon can use, as `models.list` reports it.
public struct ModelListing: Sendable, Equatable {
    public let kind: ModelKind
    public let name: String
    public let path: String
    /// How it is stored: "diffusers" (a folder) or the file extension ("safetensors", "ckpt", "param", ...).
    public let format: String
    /// Its resident variants (empty when not loaded).
    public let resident: [ResidentModelInfo]
    /// What its files say: family, prediction type, inpainting, architecture, scale.
    public let details: [String: String]
    /// Why the files could not be read (a corrupt header, a missing companion file), when they could not.
    public let problem: String?

    public var loaded: Bool { !resident.isEmpty }
    public var bytes: Int? { resident.isEmpty ? nil : resident.reduce(0) { $0 + $1.bytes } }
}
