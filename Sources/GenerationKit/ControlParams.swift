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
    /// The member it came from (`control[1]`), for errors.
    public var field: String

    init(_ value: JSONValue, index: Int) {
        let o = value.objectValue ?? [:]
        model = o["model"]?.stringValue ?? ""
        image = o["image"]
        weight = o["weight"]?.doubleValue ?? Self.defaultWeight
        start = o["start"]?.doubleValue ?? 0
        end = o["end"]?.doubleValue ?? 1
        guessMode = o["guess_mode"]?.boolValue ?? false
        resizeMode = o["resize_mode"]?.stringValue.flatMap(ResizeMode.init(name:)) ?? Self.defaultResizeMode
        field = "control[\(index)]"
    }

    /// The `control` list of a request (empty when absent).
    public static func list(_ params: [String: JSONValue]) -> [ControlParams] {
        (params["control"]?.arrayValue ?? []).enumerated().map { ControlParams($1, index: $0) }
    }
}
