import Foundation

/// Peak resident set size of this process (VmHWM), and a way to reset it so one phase can be measured.
enum PeakMemory {
    static func peakBytes() -> Int? { statusField("VmHWM:") }
    static func currentBytes() -> Int? { statusField("VmRSS:") }
    /// Writing 5 to clear_refs resets VmHWM to the current RSS (Linux ≥ 4.0).
    static func reset() { try? "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8) }
    private static func statusField(_ name: String) -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix(name) {
            return line.split(separator: " ").compactMap { Int($0) }.first.map { $0 * 1024 }
        }
        return nil
    }
}
