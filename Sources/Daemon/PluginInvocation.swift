import StrictJSON
import DiffusionProtocol
import PluginAPI

/// Calls an operation and turns whatever it throws into the JSON-RPC error the client gets.
enum PluginInvocation {
    static func run(_ plugin: any OperationPlugin, params: [String: JSONValue], context: JobContext) -> Result<JSONValue, RPCError> {
        do {
            try context.checkCancelled()
            return .success(try plugin.run(params: params, context: context))
        } catch let e as any RPCErrorConvertible {
            return .failure(e.rpcError)
        } catch let e as RPCError {
            return .failure(e)
        } catch let v as SchemaViolation {
            return .failure(.invalidParams(field: v.field, reason: v.reason))
        } catch {
            return .failure(RPCError(code: RPCErrorCode.internalError,
                                     message: "internal error in \(context.method): \(error); please report it with the request that caused it"))
        }
    }
}
