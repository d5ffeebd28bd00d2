import Foundation

/// A folder of adapter files under `--models` (`embeddings/`, `hypernetworks/`): subfolders allowed, a file's
/// name is its path relative to the folder without extension (`styles/foo`). Names are only ever looked up among
/// the listed files, and a file (or link) whose real path leaves the folder is not listed, so no request can
/// reach outside it. Hidden files and folders are skipped; of two files with the same name the extension earlier
/// in `extensions` wins.
public struct AdapterFolder: Sendable {
    public let path: String
    public let extensions: [String]

    public init(path: String, extensions: [String]) {
        self.path = path
        self.extensions = extensions
    }

    public struct Entry: Equatable, Sendable {
        public let name: String
        public let path: String
        /// The file extension, lowercased.
        public let format: String
    }

    /// Deep enough for any sane library; a link cycle cannot make it loop.
    static let maxDepth = 8

    public func entries() -> [Entry] {
        let fm = FileManager.default
        let root = (path as NSString).resolvingSymlinksInPath
        var byName: [String: Entry] = [:]
        func walk(_ folder: String, prefix: String, depth: Int) {
            guard depth <= Self.maxDepth, let items = try? fm.contentsOfDirectory(atPath: folder) else { return }
            for item in items.sorted() where !item.hasPrefix(".") {
                let full = (folder as NSString).appendingPathComponent(item)
                let real = (full as NSString).resolvingSymlinksInPath
                guard real.hasPrefix(root + "/") else { continue }
                var isDirectory: ObjCBool = false
                guard fm.fileExists(atPath: real, isDirectory: &isDirectory) else { continue }
                if isDirectory.boolValue {
                    walk(full, prefix: prefix + item + "/", depth: depth + 1)
                    continue
                }
                let ext = (item as NSString).pathExtension.lowercased()
                guard let rank = extensions.firstIndex(of: ext) else { continue }
                let name = prefix + (item as NSString).deletingPathExtension
                if let existing = byName[name], let existingRank = extensions.firstIndex(of: existing.format), existingRank <= rank {
                    continue
                }
                byName[name] = Entry(name: name, path: full, format: ext)
            }
        }
        walk(path, prefix: "", depth: 0)
        return byName.values.sorted { $0.name < $1.name }
    }

    public func entry(named name: String) -> Entry? {
        entries().first { $0.name == name }
    }
}
