import DiffusionProtocol
import StrictJSON

/// The contract every operation implements. The daemon owns everything around it: framing, the queue,
/// validation of `params` against `paramsSchema` (before `run` is called), notifications and errors.
///
/// `run` is called on the daemon's single worker thread, never on a network thread, so it may do
/// blocking CPU-bound work. It must call `context.checkCancelled()` between steps/tiles and report progress
/// through `context.progress(...)`.
public protocol OperationPlugin: Sendable {
    /// The JSON-RPC method name, e.g. "resize".
    var method: String { get }
    /// One sentence for `capabilities`.
    var summary: String { get }
    /// A JSON Schema (the subset `SchemaValidator` implements) for the params object. It is published in
    /// `capabilities` and enforced before `run`, so `run` may rely on types, ranges and required fields.
    var paramsSchema: JSONValue { get }
    /// A JSON Schema of the `result` member `run` returns: the source of protocol/schema/<method>.result.json
    /// (`diffusiond schema --write`). nil where the daemon publishes none (external plugins).
    var resultSchema: JSONValue? { get }
    /// Top-level members this plugin adds to the `capabilities` result (the generation operations add the
    /// `samplers`, `schedulers` and `rngs` they accept). Plugins naming the same member must give the same
    /// value; the daemon refuses a conflict at registration.
    var capabilities: [String: JSONValue] { get }
    /// Returns the `result` member of the response. Throws `PluginError` (or `RPCError`) for failures
    /// a client can act on; any other error becomes -32603 with its description.
    func run(params: [String: JSONValue], context: JobContext) throws -> JSONValue
    /// Whether the daemon queues the call behind running jobs (the default) or answers it at once.
    var scheduling: PluginScheduling { get }
}

/// How the daemon runs an operation.
public enum PluginScheduling: Sendable {
    /// One at a time on the worker thread, with queued/started notifications, cancellable.
    case queued
    /// At once, beside whatever job is running, on a thread of its own: for cheap reads of daemon state
    /// (`models.list`) that a client must get while a long job runs. Such a call must not compute or load.
    case immediate
}

extension OperationPlugin {
    public var scheduling: PluginScheduling { .queued }
}

extension OperationPlugin {
    /// Most operations publish nothing beyond their method entry.
    public var capabilities: [String: JSONValue] { [:] }
}
