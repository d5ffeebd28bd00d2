import Foundation

/// Byte counts as people write them on a command line or in a config file.
public enum ByteCount {
    /// "12000000000", "12G", "512M", "800K" (powers of 1024 for suffixes); nil for anything else, negative
    /// values, or values beyond Int's range.
    public static func parse(_ text: String) -> Int? {
        let t = text.trimmingCharacters(in: .whitespaces).uppercased()
        let units: [Character: Int] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40]
        if let last = t.last, let unit = units[last], let value = Double(t.dropLast()), value >= 0 {
            let bytes = value * Double(unit)
            // Int(Double) traps beyond Int's range (and on NaN/inf), so refuse those instead.
            return bytes.isFinite && bytes < Double(Int.max) ? Int(bytes) : nil
        }
        return Int(t).flatMap { $0 >= 0 ? $0 : nil }
    }
}
