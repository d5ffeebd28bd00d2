import Foundation

/// The LoRA / LyCORIS files of `<models>/loras/`: subfolders allowed, a file's name is its path relative to
/// the folder without the extension (`styles/ink`). Names are looked up among the files found by walking the
/// folder, so a request can never name anything outside it; a symlink whose target lies outside is skipped.
public struct LoRADirectory: Sendable {
    public static let folderName = "loras"
    /// In the order a name that exists with several extensions is resolved.
    public static let extensions = ["safetensors", "pt", "ckpt", "bin", "pth"]
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

    /// Every adapter file, by name (one entry per name, the first extension of `extensions` winning), walked as
    /// every adapter folder is (`AdapterFolder`: links whose real path leaves the folder are not listed).
    public func entries() -> [Entry] {
        AdapterFolder(path: path, extensions: Self.extensions).entries().map { Entry(name: $0.name, path: $0.path, format: $0.format) }
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
