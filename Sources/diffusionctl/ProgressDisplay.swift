import Foundation
import StrictJSON

/// Shows a job's notifications on stderr: on a terminal one live line (stage, a bar, step or tile counts,
/// elapsed time and ETA) redrawn in place; otherwise one plain line per notification, for logs and scripts.
struct ProgressDisplay {
    let live: Bool
    let quiet: Bool
    private var drewLine = false

    init(quiet: Bool, live: Bool = isatty(2) != 0) {
        self.quiet = quiet
        self.live = live
    }

    mutating func show(_ name: String, _ params: [String: JSONValue]) {
        guard !quiet else { return }
        if live {
            let line = Self.liveLine(name, params)
            let fitted = String(line.prefix(max(20, Self.terminalColumns() - 1)))
            FileHandle.standardError.write(Data("\r\u{1B}[K\(fitted)".utf8))
            drewLine = true
        } else {
            FileHandle.standardError.write(Data("\(Self.plainLine(name, params))\n".utf8))
        }
    }

    /// Ends the live line so what follows starts on a fresh one.
    mutating func finish() {
        if drewLine { FileHandle.standardError.write(Data("\n".utf8)) }
        drewLine = false
    }

    static func plainLine(_ name: String, _ p: [String: JSONValue]) -> String {
        let id = p["id"].map { JSONWriter.serialize($0) } ?? "?"
        switch name {
        case "queued": return "[\(id)] queued at position \(p["position"]?.intValue ?? 0)"
        case "started": return "[\(id)] started"
        case "progress":
            var parts = ["[\(id)] \(p["stage"]?.stringValue ?? "")"]
            parts += counts(p)
            parts += times(p)
            return parts.joined(separator: " ")
        default: return "[\(id)] \(name) \(JSONWriter.serialize(.object(p)))"
        }
    }

    static func liveLine(_ name: String, _ p: [String: JSONValue]) -> String {
        guard name == "progress" else { return plainLine(name, p) }
        let id = p["id"].map { JSONWriter.serialize($0) } ?? "?"
        var parts = ["[\(id)] \(p["stage"]?.stringValue ?? "")"]
        if let fraction = fraction(p) { parts.append(bar(fraction)) }
        parts += counts(p)
        parts += times(p)
        return parts.joined(separator: " ")
    }

    /// `[########----------------]`, 24 cells.
    static func bar(_ fraction: Double, width: Int = 24) -> String {
        let filled = Int((min(max(fraction, 0), 1) * Double(width)).rounded())
        return "[" + String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled) + "]"
    }

    private static func fraction(_ p: [String: JSONValue]) -> Double? {
        if let s = p["step"]?.intValue, let ss = p["steps"]?.intValue, ss > 0 { return Double(s) / Double(ss) }
        if let t = p["tile"]?.intValue, let ts = p["tiles"]?.intValue, ts > 0 { return Double(t) / Double(ts) }
        return nil
    }

    private static func counts(_ p: [String: JSONValue]) -> [String] {
        var parts: [String] = []
        if let t = p["tile"]?.intValue, let ts = p["tiles"]?.intValue { parts.append("tile \(t)/\(ts)") }
        if let s = p["step"]?.intValue {
            if let ss = p["steps"]?.intValue, ss > 0 {
                parts.append("step \(s)/\(ss) (\(s * 100 / ss)%)")
            } else {
                parts.append("step \(s)")
            }
        }
        return parts
    }

    private static func times(_ p: [String: JSONValue]) -> [String] {
        var parts: [String] = []
        if let e = p["elapsed_ms"]?.intValue { parts.append(String(format: "%.1fs", Double(e) / 1000)) }
        if let r = p["remaining_ms"]?.intValue { parts.append(String(format: "ETA %.1fs", Double(r) / 1000)) }
        return parts
    }

    private static func terminalColumns() -> Int {
        var size = winsize()
        if ioctl(2, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 { return Int(size.ws_col) }
        return Int(ProcessInfo.processInfo.environment["COLUMNS"] ?? "") ?? 80
    }
}
