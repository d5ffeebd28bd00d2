import Foundation
import StrictJSON

/// Makes every `"path"` member in a params tree absolute, against the caller's working folder: the daemon
/// refuses relative paths (they would resolve against its own folder), so `-p image.path=in.png` means the
/// `in.png` the user sees.
enum PathResolver {
    static func resolve(_ params: [String: JSONValue], against folder: String = FileManager.default.currentDirectoryPath)
        -> [String: JSONValue] {
        params.reduce(into: [:]) { result, member in
            if member.key == "path", case .string(let path) = member.value {
                result[member.key] = .string(absolute(path, against: folder))
            } else {
                result[member.key] = resolve(member.value, against: folder)
            }
        }
    }

    static func absolute(_ path: String, against folder: String = FileManager.default.currentDirectoryPath) -> String {
        guard !path.hasPrefix("/"), !path.isEmpty else { return path }
        return (URL(fileURLWithPath: folder).appendingPathComponent(path).standardizedFileURL.path)
    }

    private static func resolve(_ value: JSONValue, against folder: String) -> JSONValue {
        switch value {
        case .object(let object): return .object(resolve(object, against: folder))
        case .array(let array): return .array(array.map { resolve($0, against: folder) })
        default: return value
        }
    }
}
