/// Why a parsed JSON value does not fit the type it was decoded into, naming the field (`unet.block_out_channels[2]`
/// style, from the document's root) and what was found there, so a bad config file can be fixed by hand.
public struct JSONDecodingError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The keys and indices from the root to the offending value; empty for the root itself.
    public let field: String
    public let reason: String

    public init(codingPath: [any CodingKey], reason: String) {
        self.field = Self.render(codingPath)
        self.reason = reason
    }

    public var description: String { field.isEmpty ? reason : "\(field): \(reason)" }

    static func render(_ path: [any CodingKey]) -> String {
        var out = ""
        for key in path {
            if let index = key.intValue {
                out += "[\(index)]"
            } else {
                out += out.isEmpty ? key.stringValue : "." + key.stringValue
            }
        }
        return out
    }
}
