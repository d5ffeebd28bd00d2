/// Why the daemon could not start or serve; each names the path involved and what to do.
public enum DaemonError: Error, CustomStringConvertible {
    case anotherInstanceRunning(socket: String)
    case socketPathOccupied(path: String, kind: String)
    case socketDirectoryUnsafe(path: String, reason: String)
    case socketPathTooLong(path: String, limit: Int)
    case systemCall(name: String, path: String, errno: Int32, detail: String)
    case pluginLoad(path: String, reason: String)
    case duplicateMethod(String)
    case capabilityConflict(member: String, method: String)

    public var description: String {
        switch self {
        case .anotherInstanceRunning(let socket):
            return "another diffusiond is already serving on \(socket); stop it first (diffusionctl --socket \(socket) shutdown) or choose another --socket"
        case .socketPathOccupied(let path, let kind):
            return "\(path) exists and is a \(kind), not a socket; it will not be deleted: choose another --socket or remove it yourself"
        case .socketDirectoryUnsafe(let path, let reason):
            return "socket folder \(path) is unsafe: \(reason)"
        case .socketPathTooLong(let path, let limit):
            return "socket path \(path) is longer than the system's limit of \(limit) bytes; choose a shorter --socket"
        case .systemCall(let name, let path, _, let detail):
            return "\(name)(\(path)) failed: \(detail)"
        case .pluginLoad(let path, let reason):
            return "cannot load plugin \(path): \(reason)"
        case .duplicateMethod(let m):
            return "two plugins declare the method \"\(m)\"; remove one of them"
        case .capabilityConflict(let member, let method):
            return "plugin \(method) publishes the capabilities member \"\(member)\", which the daemon or another plugin already gives another value"
        }
    }
}
