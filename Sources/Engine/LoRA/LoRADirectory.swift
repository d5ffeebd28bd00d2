import Foundation

/// The LoRA / LyCORIS files of `<models>/loras/`: subfolders allowed, a file's name is its path relative to
/// the folder without the extension (`styles/ink`). Names are looked up among the files found by walking the
/// folder, so a request can never name anything outside it; a symlink whose target lies outside is skipped.
public struct LoRADirectory: Sendable {
    public static let folderName = "loras"
    /// In the order a name that exists with several extensions is resolved.
    public static let extensions = ["safetensors", "pt", "ckpt", "bin", "pth"]
    /// Deeper trees are not walked (a loop of links inside the folder must end).
    static let maxDepth = 8

    public let path: String

    public init(path: String) {
        self.path = path
    }

    /// `<models>/loras`.
    public init(modelsDirectory: String) {
        self.path = (modelsDirectory as NSString).appendingPathComponent(Self.folderName)
    }

    public struct Entry: Equatable, Sendable {
        public let name: String
        public let path: String
        public let format: String
    }

    /// Every adapter file, by name (one entry per name, the first extension of `extensions` winning).
    public func entries() -> [Entry] {
        let fm = FileManager.default
        let root = (path as NSString).resolvingSymlinksInPath
        var byName: [String: Entry] = [:]
        func walk(_ folder: String, relative: String, depth: Int) {
            guard depth <= Self.maxDepth, let items = try? fm.contentsOfDirectory(atPath: folder) else { return }
            for item in items.sorted() where !item.hasPrefix(".") {
                let full = (folder as NSString).appendingPathComponent(item)
                let real = (full as NSString).resolvingSymlinksInPath
                guard real == root || real.hasPrefix(root + "/") else { continue }
                let name = relative.isEmpty ? item : relative + "/" + item
                var isDirectory: ObjCBool = false
                guard fm.fileExists(atPath: full, isDirectory: &isDirectory) else { continue }
                if isDirectory.boolValue {
                    walk(full, relative: name, depth: depth + 1)
                    continue
                }
                let ext = (item as NSString).pathExtension.lowercased()
                guard let rank = Self.extensions.firstIndex(of: ext) else { continue }
                let stem = (name as NSString).deletingPathExtension
                if let existing = byName[stem], let existingRank = Self.extensions.firstIndex(of: existing.format), existingRank <= rank { continue }
                byName[stem] = Entry(name: stem, path: full, format: ext)
            }
        }
        walk(path, relative: "", depth: 0)
        return byName.values.sorted { $0.name < $1.name }
    }

    /// The file called `name` (its relative path without extension, or with it).
    public func resolve(_ name: String) throws -> Entry {
        guard !name.isEmpty, !name.hasPrefix("/"), !name.split(separator: "/").contains(where: { $0 == ".." || $0 == "." }) else {
            throw LoRAError.invalidName(name)
        }
        let all = entries()
        if let e = all.first(where: { $0.name == name }) { return e }
        if let e = all.first(where: { $0.name + "." + $0.format == name }) { return e }
        throw LoRAError.notFound(name: name, available: all.map(\.name))
    }
}
