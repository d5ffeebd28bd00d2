import Foundation

/// This process's memory as Linux reports it in /proc/self/status (bytes), for the bench's memory rows.
struct BenchMemory {
    /// Resident set: anonymous + file-backed (mmap'ed weights count here once touched) + shared.
    var resident: Int
    var anonymous: Int
    var fileBacked: Int
    /// Peak resident set since start or since the last `resetPeak()`.
    var peak: Int

    static func current() -> BenchMemory? {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        var fields: [String: Int] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 1)
            guard parts.count == 2 else { continue }
            let value = parts[1].split(whereSeparator: { $0 == " " || $0 == "\t" })
            // Values are "<n> kB".
            if value.count == 2, value[1] == "kB", let kib = Int(value[0]) { fields[String(parts[0])] = kib * 1024 }
        }
        guard let rss = fields["VmRSS"], let hwm = fields["VmHWM"] else { return nil }
        return BenchMemory(resident: rss, anonymous: fields["RssAnon"] ?? 0, fileBacked: fields["RssFile"] ?? 0, peak: hwm)
    }

    /// Sets the peak back to the current resident set (clear_refs value 5, Linux ≥ 4.0), so the next
    /// reading is the peak of what runs in between. False when the kernel refuses.
    @discardableResult
    static func resetPeak() -> Bool {
        guard let handle = FileHandle(forWritingAtPath: "/proc/self/clear_refs") else { return false }
        defer { try? handle.close() }
        do { try handle.write(contentsOf: Array("5".utf8)) } catch { return false }
        return true
    }
}

extension Int {
    /// Bytes as gigabytes (10⁹) with two decimals, for tables.
    var gigabytes: String { String(format: "%.2f GB", Double(self) / 1e9) }
}
