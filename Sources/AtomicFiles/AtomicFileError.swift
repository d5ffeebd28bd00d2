#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Which step of an atomic write failed, with the system's errno, so each caller can word it in its own
/// error type (an image output and a converted checkpoint report differently).
public struct AtomicFileError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Step: String, Sendable {
        /// Creating the temporary file in the destination's folder.
        case create
        case write
        /// fsync of the temporary file.
        case sync
        case rename
    }

    /// The destination (not the temporary).
    public let path: String
    public let step: Step
    public let code: Int32

    public init(path: String, step: Step, code: Int32) {
        self.path = path
        self.step = step
        self.code = code
    }

    /// The destination existed and `overwrite` was false (RENAME_NOREPLACE refused).
    public var destinationExists: Bool { step == .rename && code == EEXIST }
    /// The destination's folder does not exist.
    public var folderMissing: Bool { step == .create && code == ENOENT }
    public var reason: String { String(cString: strerror(code)) }

    public var description: String { "\(path): \(step.rawValue): \(reason)" }
}
