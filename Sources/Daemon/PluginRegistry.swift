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
    /// The top-level `capabilities` members the plugins contribute, merged.
    public private(set) var capabilityMembers: [String: JSONValue] = [:]

    /// Method names the daemon itself answers; a plugin may not take them.
    public static let reservedMethods: Set<String> = ["capabilities", "ping", "status", "cancel", "shutdown"]

    public init() {}

    /// A registry of `plugins`, all built in.
    public init(builtin plugins: [any OperationPlugin]) throws {
        for plugin in plugins { try register(plugin) }
    }

    public mutating func register(_ plugin: any OperationPlugin, source: String = "builtin") throws {
        guard !Self.reservedMethods.contains(plugin.method), entries[plugin.method] == nil else {
            throw DaemonError.duplicateMethod(plugin.method)
        }
        let contributed = plugin.capabilities
        for (member, value) in contributed {
            // The daemon's own members stay the daemon's; two plugins may share a member only with one value.
            if CapabilitiesDocument.daemonMembers.contains(member) || capabilityMembers[member].map({ !$0.jsonEquals(value) }) == true {
                throw DaemonError.capabilityConflict(member: member, method: plugin.method)
            }
        }
        entries[plugin.method] = Entry(plugin: plugin, source: source)
        capabilityMembers.merge(contributed) { old, _ in old }
    }

    /// Loads external plugins from a folder (see protocol/plugins.md).
    public mutating func loadExternal(directory: String) throws {
        for plugin in try ExternalPlugin.loadAll(directory: directory) {
            try register(plugin, source: plugin.libraryPath)
        }
    }

    public subscript(method: String) -> (any OperationPlugin)? { entries[method]?.plugin }

    /// Built-in entries, by method name (what protocol/schema/ documents).
    public var builtinEntries: [Entry] {
        entries.keys.sorted().compactMap { entries[$0] }.filter { $0.source == "builtin" }
    }

    public var capabilitiesJSON: JSONValue {
        .array(entries.keys.sorted().compactMap { name in
            guard let e = entries[name] else { return nil }
            return ["method": .string(name), "summary": .string(e.plugin.summary), "params_schema": e.plugin.paramsSchema,
                    "source": .string(e.source)]
        })
    }
}
