import Foundation

/// The process-wide resident model caches, one per models directory (the daemon has one), so that every
/// operation plugin shares loaded models.
///
/// The memory budget is `SharedModels.budgetBytes` (set it at start from `--memory-budget`), else the
/// environment variable `DIFFUSIOND_MEMORY_BUDGET` (bytes, or with a K/M/G suffix), else unlimited.
public enum SharedModels {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var caches: [String: ModelCache] = [:]
    nonisolated(unsafe) private static var configuredBudget: Int?

    public static var budgetBytes: Int? {
        get { lock.withLock { configuredBudget ?? environmentBudget() } }
        set {
            lock.withLock {
                configuredBudget = newValue
                for cache in caches.values { cache.budgetBytes = newValue }
            }
        }
    }

    public static func cache(directory: String?) -> ModelCache {
        let key = directory ?? ""
        let budget = budgetBytes
        return lock.withLock {
            if let c = caches[key] { return c }
            let c = ModelCache(directory: directory, budgetBytes: budget)
            caches[key] = c
            return c
        }
    }

    /// "12000000000", "12G", "512M", "800K" (powers of 1024 for suffixes).
    public static func parseBytes(_ text: String) -> Int? {
        let t = text.trimmingCharacters(in: .whitespaces).uppercased()
        let units: [Character: Int] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40]
        if let last = t.last, let unit = units[last], let value = Double(t.dropLast()), value >= 0 {
            let bytes = value * Double(unit)
            // Int(Double) traps beyond Int's range (and on NaN/inf), so refuse those instead.
            return bytes.isFinite && bytes < Double(Int.max) ? Int(bytes) : nil
        }
        return Int(t).flatMap { $0 >= 0 ? $0 : nil }
    }

    private static func environmentBudget() -> Int? {
        ProcessInfo.processInfo.environment["DIFFUSIOND_MEMORY_BUDGET"].flatMap(parseBytes)
    }
}
