import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// `$XDG_RUNTIME_DIR/diffusiond/diffusiond.sock` when the session has one (a per-user 0700 tmpfs), else
/// `/tmp/diffusiond-$UID/diffusiond.sock` (the folder is created 0700). diffusionctl uses the same rule.
enum DefaultSocketPath {
    static var path: String {
        if let runtime = ProcessInfo.processInfo.environment["XDG_RUNTIME_DIR"], runtime.hasPrefix("/") {
            return runtime + "/diffusiond/diffusiond.sock"
        }
        return "/tmp/diffusiond-\(getuid())/diffusiond.sock"
    }
}
