import DiffusionProtocol
import PluginAPI
import StrictJSON

/// The operations the daemon serves, by method name. Built once at start; read-only afterwards.
public struct PluginRegistry: Sendable {
    public struct Entry: Sendable {
        public let plugin: any OperationPlugin
        /// "builtin" or the shared library's path.
        public let source: String
    }

    public private(set) var entries: [String: Entry] = [:]

    /// Method names the daemon itself answers; a plugin may not take them.
    public static let reservedMethods: Set<String> = ["capabilities", "ping", "status", "cancel", "shutdown"]

    public init() {}

    public mutating func register(_ plugin: any OperationPlugin, source: String = "builtin") throws {
        guard !Self.reservedMethods.contains(plugin.method), entries[plugin.method] == nil else {
            throw DaemonError.duplicateMethod(plugin.method)
        }
        entries[plugin.method] = Entry(plugin: plugin, source: source)
    }

    /// Loads external plugins from a folder (see protocol/plugins.md).
    public mutating func loadExternal(directory: String) throws {
        for plugin in try ExternalPlugin.loadAll(directory: directory) {
            try register(plugin, source: plugin.libraryPath)
        }
    }

    public subscript(method: String) -> (any OperationPlugin)? { entries[method]?.plugin }

    public var capabilitiesJSON: JSONValue {
        .array(entries.keys.sorted().compactMap { name in
            guard let e = entries[name] else { return nil }
            return ["method": .string(name), "summary": .string(e.plugin.summary), "params_schema": e.plugin.paramsSchema,
                    "source": .string(e.source)]
        })
    }
}
