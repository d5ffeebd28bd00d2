import DiffusionProtocol
import Engine
import Foundation
import PluginAPI
import StrictJSON

/// Identifies a job: JSON-RPC ids are chosen by clients, so they are unique only per connection.
struct JobKey: Hashable, Sendable {
    var connection: Int
    var id: RequestID
}

/// One accepted operation request, from `queued` to its single terminal response.
final class Job: Sendable {
    let key: JobKey
    let method: String
    let params: [String: JSONValue]
    let plugin: any OperationPlugin
    let outbox: Outbox
    let token = CancellationToken()
    let context: JobContext
    let enqueuedAt = Date()
    let latestProgress = Locked<ProgressUpdate?>(nil)
    /// The admission check's estimate (nil for operations that give none), reported by `status`.
    let estimate = Locked<MemoryEstimate?>(nil)
    /// Set when shutdown gave up waiting for a plugin that ignores cancellation and answered for it.
    let abandoned = Locked(false)

    init(key: JobKey, method: String, params: [String: JSONValue], plugin: any OperationPlugin, outbox: Outbox,
         pathPolicy: PathPolicy, models: ModelHost, maxImagePixels: Int? = nil, maxOutputPixels: Int? = nil) {
        self.key = key
        self.method = method
        self.params = params
        self.plugin = plugin
        self.outbox = outbox
        let token = self.token
        let box = latestProgress
        let id = key.id
        self.context = JobContext(requestID: key.id, method: method, pathPolicy: pathPolicy, models: models,
                                  cancellation: token, maxImagePixels: maxImagePixels, maxOutputPixels: maxOutputPixels, progressSink: { update in
                                      box.withLock { $0 = update }
                                      outbox.send(RPCMessage.notification(NotificationName.progress, Job.progressParams(id: id, update)))
                                  })
    }

    /// Seconds to whole milliseconds without trapping: a plugin reporting step 1 of 2^62 extrapolates a
    /// remaining time whose milliseconds do not fit an Int, and a non-finite value must not crash the daemon.
    static func millis(_ seconds: Double) -> Int {
        let ms = (seconds * 1000).rounded(.down)
        guard ms.isFinite else { return ms > 0 ? 9_000_000_000_000_000 : 0 }
        return Int(min(max(ms, 0), 9.0e15))  // ~285,000 years: far beyond any real estimate, exactly representable
    }

    static func progressParams(id: RequestID, _ u: ProgressUpdate) -> [String: JSONValue] {
        var p: [String: JSONValue] = ["id": id.json, "stage": .string(u.stage), "elapsed_ms": JSONValue(millis(u.elapsedSeconds))]
        if let v = u.step { p["step"] = JSONValue(v) }
        if let v = u.steps { p["steps"] = JSONValue(v) }
        if let v = u.tile { p["tile"] = JSONValue(v) }
        if let v = u.tiles { p["tiles"] = JSONValue(v) }
        if let r = u.remainingSeconds { p["remaining_ms"] = JSONValue(millis(r)) }
        return p
    }
}
