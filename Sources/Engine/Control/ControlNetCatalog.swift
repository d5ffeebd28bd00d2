import Foundation
import Models

/// Resolves ControlNet names to files under `<models>/controlnet/`: a name is the path below that folder without
/// its extension (`canny`, `sd15/canny`), naming a diffusers folder (`<name>/config.json`) or a single file
/// `<name>.safetensors|.pth|.ckpt|.pt`, first match in that order. Names have no empty, `.` or `..` parts and no
/// part starting with a dot, and the resolved file (symlinks followed) must lie inside the folder, so a request
/// cannot reach outside it.
public enum ControlNetCatalog {
    public static let folderName = "controlnet"
    static let extensions = ["safetensors", "pth", "ckpt", "pt"]
    /// Sub-folders searched below `controlnet/` when listing.
    static let maxDepth = 4

    public static func folder(in models: String) -> String { (models as NSString).appendingPathComponent(folderName) }

    public static func isValidName(_ name: String) -> Bool {
        guard !name.isEmpty, name.utf8.count <= 255, !name.contains("\\"), !name.contains("\0") else { return false }
        let parts = name.split(separator: "/", omittingEmptySubsequences: false)
        return parts.count <= maxDepth + 1 && parts.allSatisfy { !$0.isEmpty && !$0.hasPrefix(".") }
    }

    /// The path for `name`, or nil when nothing by that name exists inside the folder.
    public static func resolve(_ name: String, in models: String) -> String? {
        guard isValidName(name) else { return nil }
        let root = folder(in: models)
        let base = (root as NSString).appendingPathComponent(name)
        var candidates: [String] = []
        if FileManager.default.fileExists(atPath: (base as NSString).appendingPathComponent("config.json")) {
            candidates.append(base)
        }
        candidates += extensions.map { "\(base).\($0)" }.filter { isFile($0) }
        return candidates.first { isInside($0, root) }
    }

    /// Every name the folder offers, sorted (for `models.list` and not-found messages).
    public static func available(in models: String) -> [String] {
        let root = folder(in: models)
        var names: [String] = []
        func walk(_ relative: String, depth: Int) {
            let directory = relative.isEmpty ? root : (root as NSString).appendingPathComponent(relative)
            guard let items = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return }
            for item in items.sorted() where !item.hasPrefix(".") {
                let rel = relative.isEmpty ? item : relative + "/" + item
                let full = (root as NSString).appendingPathComponent(rel)
                var isDirectory: ObjCBool = false
                guard FileManager.default.fileExists(atPath: full, isDirectory: &isDirectory) else { continue }
                if isDirectory.boolValue {
                    if FileManager.default.fileExists(atPath: (full as NSString).appendingPathComponent("config.json")) {
                        names.append(rel)
                    } else if depth < maxDepth {
                        walk(rel, depth: depth + 1)
                    }
                } else if extensions.contains((item as NSString).pathExtension.lowercased()) {
                    names.append((rel as NSString).deletingPathExtension)
                }
            }
        }
        walk("", depth: 0)
        return Array(Set(names)).sorted().filter { resolve($0, in: models) != nil }
    }

    static func isFile(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && !isDirectory.boolValue
    }

    /// Whether `path`, symlinks resolved, is below `root` (also resolved).
    static func isInside(_ path: String, _ root: String) -> Bool {
        let real = (path as NSString).resolvingSymlinksInPath
        let base = (root as NSString).resolvingSymlinksInPath
        return real.hasPrefix(base.hasSuffix("/") ? base : base + "/")
    }
}
