import CDiffusiondPlugin
import DiffusionProtocol
import Foundation
import PluginAPI
#if canImport(Glibc)
import Glibc
import StrictJSON
#endif

/// An operation implemented by a shared library through the C ABI in protocol/c/diffusiond_plugin.h.
/// The library stays loaded for the daemon's lifetime (it is never dlclose'd: its descriptor and strings
/// are referenced until exit).
struct ExternalPlugin: OperationPlugin, @unchecked Sendable {
    let method: String
    let summary: String
    let paramsSchema: JSONValue
    /// The C ABI has no result schema: external results are documented by the plugin, not the protocol.
    var resultSchema: JSONValue? { nil }
    let libraryPath: String
    private let descriptor: UnsafePointer<diffusiond_plugin_v1>

    /// Loads one library and checks its descriptor thoroughly: a bad plugin must fail at start, not mid-request.
    static func load(path: String) throws -> ExternalPlugin {
        guard let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL) else {
            throw DaemonError.pluginLoad(path: path, reason: dlerror().map { String(cString: $0) } ?? "dlopen failed")
        }
        guard let symbol = dlsym(handle, "diffusiond_plugin_entry") else {
            throw DaemonError.pluginLoad(path: path, reason: "it does not export diffusiond_plugin_entry")
        }
        let entry = unsafeBitCast(symbol, to: diffusiond_plugin_entry_fn.self)
        guard let d = entry() else { throw DaemonError.pluginLoad(path: path, reason: "diffusiond_plugin_entry returned NULL") }
        guard d.pointee.abi_version == DIFFUSIOND_PLUGIN_ABI_VERSION else {
            throw DaemonError.pluginLoad(path: path, reason: "ABI version \(d.pointee.abi_version), this daemon speaks \(DIFFUSIOND_PLUGIN_ABI_VERSION)")
        }
        guard let m = d.pointee.method, let s = d.pointee.params_schema_json, d.pointee.run != nil, d.pointee.free_string != nil else {
            throw DaemonError.pluginLoad(path: path, reason: "its descriptor lacks method, params_schema_json, run or free_string")
        }
        let method = String(cString: m)
        guard !method.isEmpty, method.utf8.allSatisfy({ (0x61...0x7a).contains($0) || (0x30...0x39).contains($0) || $0 == 0x5f || $0 == 0x2e || $0 == 0x2d }) else {
            throw DaemonError.pluginLoad(path: path, reason: "method name \"\(method)\" must match [a-z0-9_.-]+")
        }
        let schema: JSONValue
        do { schema = try JSONParser.parse(String(cString: s)) } catch {
            throw DaemonError.pluginLoad(path: path, reason: "params_schema_json is not valid JSON: \(error)")
        }
        guard schema["type"] == .string("object") else {
            throw DaemonError.pluginLoad(path: path, reason: "params_schema_json must describe an object (\"type\": \"object\")")
        }
        let summary = d.pointee.summary.map { String(cString: $0) } ?? ""
        return ExternalPlugin(method: method, summary: summary, paramsSchema: schema, libraryPath: path, descriptor: d)
    }

    /// Every `*.so` in the folder, in name order so start-up is deterministic.
    static func loadAll(directory: String) throws -> [ExternalPlugin] {
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: directory) } catch {
            throw DaemonError.pluginLoad(path: directory, reason: "cannot list the folder: \(error.localizedDescription)")
        }
        return try names.filter { $0.hasSuffix(".so") }.sorted().map { try load(path: (directory as NSString).appendingPathComponent($0)) }
    }

    func run(params: [String: JSONValue], context: JobContext) throws -> JSONValue {
        let box = Unmanaged.passRetained(context)
        defer { box.release() }
        var host = diffusiond_host_v1(
            context: box.toOpaque(),
            progress: { ctx, stage, step, steps in
                guard let ctx else { return }
                let context = Unmanaged<JobContext>.fromOpaque(ctx).takeUnretainedValue()
                let name = stage.map { String(cString: $0) } ?? "run"
                context.progress(stage: name, step: Int(step), steps: steps > 0 ? Int(steps) : nil)
            },
            is_cancelled: { ctx in
                guard let ctx else { return 1 }
                return Unmanaged<JobContext>.fromOpaque(ctx).takeUnretainedValue().cancellation.isCancelled ? 1 : 0
            })
        var resultPointer: UnsafeMutablePointer<CChar>?
        var errorPointer: UnsafeMutablePointer<CChar>?
        let paramsText = JSONWriter.serialize(.object(params))
        let code = paramsText.withCString { descriptor.pointee.run(($0), &host, &resultPointer, &errorPointer) }
        let resultText = resultPointer.map { String(cString: $0) }
        let errorText = errorPointer.map { String(cString: $0) }
        if let resultPointer { descriptor.pointee.free_string(resultPointer) }
        if let errorPointer { descriptor.pointee.free_string(errorPointer) }
        switch code {
        case DIFFUSIOND_OK:
            guard let resultText else { throw PluginError.failed("plugin \(method) returned no result; this is a bug in \(libraryPath)") }
            do { return try JSONParser.parse(resultText) } catch {
                throw PluginError.failed("plugin \(method) returned invalid JSON (\(error)); this is a bug in \(libraryPath)")
            }
        case DIFFUSIOND_CANCELLED:
            throw PluginError.cancelled(reason: context.cancellation.cancellationReason ?? "request cancelled")
        case DIFFUSIOND_INVALID_PARAMS:
            throw RPCError(code: RPCErrorCode.invalidParams, message: "invalid params: \(errorText ?? "rejected by the plugin")",
                           data: ["field": "params", "reason": .string(errorText ?? "rejected by the plugin")])
        default:
            throw PluginError.failed("\(method) failed: \(errorText ?? "the plugin gave no reason (code \(code))")")
        }
    }
}
