import StrictJSON
import Engine

/// One `control` entry as sent (schema-validated), with its defaults.
public struct ControlParams: Sendable {
    public static let defaultWeight = 1.0
    public static let defaultResizeMode = ResizeMode.justResize

    public var model: String
    public var image: JSONValue?
    public var weight: Double
    public var start: Double
    public var end: Double
    public var guessMode: Bool
    public var resizeMode: ResizeMode
    /// The entry within its operation's params (`control[1]`), as the engine names it.
    public var member: String
    /// Where that sits in the request ("" or `refine.` for the upscale refine).
    public var prefix: String
    /// The full member name for errors (`refine.control[1]`).
    public var field: String { prefix + member }
    /// The entry as sent, for the preprocessor's own members (`ControlPreprocessing.decode`).
    public var members: [String: JSONValue]

    init(_ value: JSONValue, index: Int, prefix: String) {
        let o = value.objectValue ?? [:]
        model = o["model"]?.stringValue ?? ""
        image = o["image"]
        weight = o["weight"]?.doubleValue ?? Self.defaultWeight
        start = o["start"]?.doubleValue ?? 0
        end = o["end"]?.doubleValue ?? 1
        guessMode = o["guess_mode"]?.boolValue ?? false
        resizeMode = o["resize_mode"]?.stringValue.flatMap(ResizeMode.init(name:)) ?? Self.defaultResizeMode
        member = "control[\(index)]"
        self.prefix = prefix
        members = o
    }

    /// The `control` list of a request or of a nested member (`prefix` "refine."); empty when absent.
    public static func list(_ params: [String: JSONValue], prefix: String = "") -> [ControlParams] {
        (params["control"]?.arrayValue ?? []).enumerated().map { ControlParams($1, index: $0, prefix: prefix) }
    }
}
