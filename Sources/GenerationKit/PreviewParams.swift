import StrictJSON
import DiffusionProtocol

/// The `preview` member: a latent→RGB preview PNG every `every` steps, overwritten at `path`.
public struct PreviewParams: Sendable, Equatable {
    public var every: Int
    public var path: String

    /// nil when absent (the schema makes both members required when it is present).
    public init?(_ value: JSONValue?) {
        guard let p = value?.objectValue, let every = p["every"]?.intValue, let path = p["path"]?.stringValue else { return nil }
        self.every = every
        self.path = path
    }
}
