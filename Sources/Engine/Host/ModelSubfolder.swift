import Foundation

/// A kind's own folder under the models folder (`t2i_adapter/`, …), where a model is a file or a diffusers
/// folder and its name is its path relative to the folder without extension (`lineart/v2`). A name never
/// reaches outside the folder: no empty, `.`/`..` or hidden components, no absolute path, and every
/// subfolder it passes through must be a real folder, not a symbolic link. The model entry itself may be a
/// link (as checkpoints may: operators link model collections in), which is the operator's choice, not the
/// request's.
public struct ModelSubfolder: Sendable {
    public let path: String
    /// File extensions a model may have, in lookup order.
    public let extensions: [String]
    /// Whether a folder at the name is a model (a diffusers folder of this kind).
    public let isModelFolder: @Sendable (String) -> Bool

    public init(path: String, extensions: [String], isModelFolder: @escaping @Sendable (String) -> Bool) {
        self.path = path
        self.extensions = extensions
        self.isModelFolder = isModelFolder
    }

    public static func isValidName(_ name: String) -> Bool {
        guard !name.isEmpty, name.count <= 256, !name.hasPrefix("/") else { return false }
        return name.split(separator: "/", omittingEmptySubsequences: false).allSatisfy { part in
            !part.isEmpty && !part.hasPrefix(".") && !part.contains("\0")
        }
    }

    /// The model called `name`, or nil.
    public func resolve(_ name: String) -> String? {
        guard Self.isValidName(name) else { return nil }
        let base = path + "/" + name
        var candidates: [String] = []
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: base, isDirectory: &isDirectory), isDirectory.boolValue, isModelFolder(base) {
            candidates.append(base)
        }
        candidates += extensions.map { base + "." + $0 }
        guard throughRealFolders(name) else { return nil }
        return candidates.first { FileManager.default.fileExists(atPath: $0) }
    }

    /// Every model name, sorted (subfolders searched; model folders are not entered).
    public func names() -> [String] {
        var found: [String] = []
        func walk(_ relative: String, depth: Int) {
            let folder = relative.isEmpty ? path : path + "/" + relative
            guard depth < 8, let entries = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return }
            for entry in entries where !entry.hasPrefix(".") {
                let name = relative.isEmpty ? entry : relative + "/" + entry
                var isDirectory: ObjCBool = false
                guard FileManager.default.fileExists(atPath: path + "/" + name, isDirectory: &isDirectory) else { continue }
                if isDirectory.boolValue {
                    let linked = (try? FileManager.default.attributesOfItem(atPath: path + "/" + name)[.type] as? FileAttributeType) == .typeSymbolicLink
                    if isModelFolder(path + "/" + name) { found.append(name) } else if !linked { walk(name, depth: depth + 1) }
                } else if extensions.contains((entry as NSString).pathExtension.lowercased()) {
                    found.append((name as NSString).deletingPathExtension)
                }
            }
        }
        walk("", depth: 0)
        return Array(Set(found)).sorted()
    }

    /// Each subfolder on the way to `name`'s last component is a real folder (the kind's folder itself may be
    /// a link the operator made).
    private func throughRealFolders(_ name: String) -> Bool {
        var current = path
        for part in name.split(separator: "/").dropLast() {
            current += "/" + part
            guard let type = try? FileManager.default.attributesOfItem(atPath: current)[.type] as? FileAttributeType,
                  type == .typeDirectory else { return false }
        }
        return true
    }
}
