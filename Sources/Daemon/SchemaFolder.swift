import Foundation

/// A folder of schema files compared with, or replaced by, the generated ones (`diffusiond schema`).
public struct SchemaFolder {
    public let path: String

    public init(path: String) { self.path = path }

    /// How the folder differs from `expected` (file name → text), one line per file, sorted; empty when equal.
    public func differences(from expected: [String: String]) throws -> [String] {
        let present = Set(try schemaFileNames())
        var lines: [String] = []
        for name in Set(expected.keys).union(present).sorted() {
            guard let text = expected[name] else {
                lines.append("extra: \(name) (no method, notification or error object generates it)")
                continue
            }
            guard present.contains(name) else {
                lines.append("missing: \(name)")
                continue
            }
            let current = try String(contentsOfFile: "\(path)/\(name)", encoding: .utf8)
            if current != text { lines.append("differs: \(name)") }
        }
        return lines
    }

    /// Writes every expected file and removes schema files nothing generates any more.
    public func write(_ expected: [String: String]) throws {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        for name in try schemaFileNames() where expected[name] == nil {
            try FileManager.default.removeItem(atPath: "\(path)/\(name)")
        }
        for (name, text) in expected {
            try text.write(toFile: "\(path)/\(name)", atomically: true, encoding: .utf8)
        }
    }

    /// The folder's `.json` files (others, such as a README, are not schema files).
    func schemaFileNames() throws -> [String] {
        guard FileManager.default.fileExists(atPath: path) else { return [] }
        return try FileManager.default.contentsOfDirectory(atPath: path).filter { $0.hasSuffix(".json") }
    }
}
