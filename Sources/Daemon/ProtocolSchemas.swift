import StrictJSON
import DiffusionProtocol

/// Every file of protocol/schema/, generated from the code that defines it: the daemon's own methods (params and
/// results), each built-in operation's `paramsSchema` and `resultSchema`, the notifications and the error object.
/// `diffusiond schema --write DIR` writes them; `--check DIR` compares a folder with them.
public enum ProtocolSchemas {
    /// File name → schema. External plugins are not part of the protocol and have no files.
    public static func files(registry: PluginRegistry) throws -> [String: JSONValue] {
        var files: [String: JSONValue] = [
            "notification.queued.json": NotificationSchemas.queued,
            "notification.started.json": NotificationSchemas.started,
            "notification.progress.json": NotificationSchemas.progress,
            "error.json": ErrorObjectSchema.schema,
        ]
        for (method, params) in BuiltinMethods.schemas {
            files["\(method).params.json"] = BuiltinMethods.documented(method, params)
        }
        for (method, result) in BuiltinMethodResults.all { files["\(method).result.json"] = result }
        for entry in registry.builtinEntries {
            let method = entry.plugin.method
            guard let result = entry.plugin.resultSchema else { throw SchemaCatalogError.missingResultSchema(method: method) }
            files["\(method).params.json"] = entry.plugin.paramsSchema
            files["\(method).result.json"] = result
        }
        return files
    }

    /// The files' text: keys sorted, 2-space indent, a trailing newline (stable, so `--check` can compare bytes).
    public static func texts(registry: PluginRegistry) throws -> [String: String] {
        try files(registry: registry).mapValues { JSONWriter.prettyPrinted($0) + "\n" }
    }
}

public enum SchemaCatalogError: Error, CustomStringConvertible {
    case missingResultSchema(method: String)

    public var description: String {
        switch self {
        case .missingResultSchema(let method):
            return "built-in operation \(method) has no resultSchema; every built-in operation documents its result"
        }
    }
}
