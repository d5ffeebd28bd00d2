import Foundation

/// A short private temp folder (socket paths must stay under ~107 bytes), removed at the end of a test.
final class TempDir {
    let path: String

    init() throws {
        var template = Array("/tmp/dmt.XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw TestFailure("mkdtemp failed: \(errno)") }
        path = String(cString: made)
    }

    func file(_ name: String) -> String { path + "/" + name }

    /// A process-wide empty folder (e.g. a models directory with no models in it), removed when the test
    /// process exits.
    static func emptyFolder() -> String { sharedEmptyPath }

    private static let sharedEmptyPath: String = {
        var template = Array("/tmp/dmt-empty.XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { fatalError("mkdtemp failed for the shared empty folder: \(errno)") }
        atexit { try? FileManager.default.removeItem(atPath: TempDir.sharedEmptyPath) }
        return String(cString: made)
    }()

    deinit { try? FileManager.default.removeItem(atPath: path) }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}
