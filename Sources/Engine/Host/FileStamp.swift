import Foundation
import Glibc

/// Identity, size and modification time of a model file, or of every file in a model folder: a resident model
/// whose stamp changed is stale, and the next lookup loads the new file (requests already holding the old one
/// finish with it).
///
/// The identity (device and inode) is what catches a file replaced by rename — the way editors and download
/// tools update a file — even when the new one has the same size and a preserved modification time (`cp -p`,
/// rsync). A folder (diffusers layout) is stamped by its files, because replacing `unet/…safetensors` changes
/// neither the top folder's size nor its modification time. Symbolic links are followed, so re-pointing a link
/// in the models folder is a change too.
struct FileStamp: Equatable, Sendable {
    struct Entry: Equatable, Sendable {
        let relativePath: String
        let device: UInt64
        let inode: UInt64
        let size: Int64
        let modifiedSeconds: Int
        let modifiedNanoseconds: Int
    }

    /// The file itself, or a folder's regular files in path order (the folder itself first).
    let entries: [Entry]

    /// A folder deeper than this, or with more files, is stamped by what fits: model folders are two levels deep.
    static let maxDepth = 4
    static let maxFiles = 4096

    init?(path: String) {
        guard let root = Self.entry(path, relativePath: "") else { return nil }
        var entries = [root]
        if Self.isFolder(path) { Self.collect(folder: path, relative: "", depth: 1, into: &entries) }
        self.entries = entries
    }

    private static func isFolder(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && info.st_mode & S_IFMT == S_IFDIR
    }

    private static func entry(_ path: String, relativePath: String) -> Entry? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return Entry(relativePath: relativePath, device: UInt64(info.st_dev), inode: UInt64(info.st_ino),
                     size: Int64(info.st_size), modifiedSeconds: info.st_mtim.tv_sec, modifiedNanoseconds: info.st_mtim.tv_nsec)
    }

    private static func collect(folder: String, relative: String, depth: Int, into entries: inout [Entry]) {
        guard depth <= maxDepth, let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return }
        // Hidden entries (.git, .cache of a downloaded repository, temporaries) are not the model's files.
        for name in names.sorted() where entries.count < maxFiles && !name.hasPrefix(".") {
            let path = folder + "/" + name
            let relativePath = relative.isEmpty ? name : relative + "/" + name
            if isFolder(path) {
                collect(folder: path, relative: relativePath, depth: depth + 1, into: &entries)
            } else if let entry = entry(path, relativePath: relativePath) {
                entries.append(entry)
            }
        }
    }
}
