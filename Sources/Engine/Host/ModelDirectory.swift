import Foundation
import Models

/// The models a models directory offers. A model's name is:
/// - a diffusers folder (`<name>/model_index.json`): the folder name;
/// - a single-file checkpoint `<name>.safetensors`, `.ckpt`, `.pt` or `.pth`: the file name without extension.
/// Requests may also give the file name with its extension. Names are looked up among the directory's
/// entries only, so a name can never reach outside the directory. If a folder and a file share a name,
/// the diffusers folder wins; between files, the order above (safetensors first).
public struct ModelDirectory: Sendable {
    public let path: String
    public static let singleFileExtensions = ["safetensors", "ckpt", "pt", "pth"]

    public init(path: String) {
        self.path = path
    }

    public struct Entry: Equatable, Sendable {
        public let name: String
        public let path: String
        public let kind: String   // "diffusers" or the file extension
    }

    public func entries() -> [Entry] {
        let fm = FileManager.default
        guard let items = try? fm.contentsOfDirectory(atPath: path) else { return [] }
        var byName: [String: Entry] = [:]
        for item in items.sorted() where !item.hasPrefix(".") {
            let full = (path as NSString).appendingPathComponent(item)
            var isDirectory: ObjCBool = false
            guard fm.fileExists(atPath: full, isDirectory: &isDirectory) else { continue }
            if isDirectory.boolValue {
                if fm.fileExists(atPath: (full as NSString).appendingPathComponent("model_index.json")) { byName[item] = Entry(name: item, path: full, kind: "diffusers") }
                continue
            }
            let ext = (item as NSString).pathExtension.lowercased()
            guard let rank = Self.singleFileExtensions.firstIndex(of: ext) else { continue }
            let name = (item as NSString).deletingPathExtension
            if let existing = byName[name] {
                let existingRank = Self.singleFileExtensions.firstIndex(of: existing.kind) ?? -1
                if existing.kind == "diffusers" || existingRank <= rank { continue }
            }
            byName[name] = Entry(name: name, path: full, kind: ext)
        }
        return byName.values.sorted { $0.name < $1.name }
    }

    public func resolve(_ requested: String) throws -> Entry {
        guard !requested.isEmpty, !requested.contains("/"), !requested.hasPrefix(".") else {
            throw EngineError.invalidModelName(requested)
        }
        let all = entries()
        if let e = all.first(where: { $0.name == requested }) { return e }
        if let e = all.first(where: { ($0.path as NSString).lastPathComponent == requested }) { return e }
        throw EngineError.modelNotFound(name: requested, available: all.map(\.name))
    }
}
