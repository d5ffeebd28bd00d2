import DiffusionProtocol
import Engine
import Foundation
import Imaging

/// What a running operation sees of the daemon: its request, cancellation, progress reporting and the
/// file policy. One context per job; used from the worker thread only (progress is forwarded by the sink).
public final class JobContext: @unchecked Sendable {
    public let requestID: RequestID
    public let method: String
    public let pathPolicy: PathPolicy
    /// The daemon's resident models, shared by every job (one host under one memory budget).
    public let models: ModelHost
    public let cancellation: CancellationToken
    /// Header limits for every image this job decodes or holds in memory (`--max-image-pixels` raises or lowers them).
    public let imageLimits: ImageLimits
    /// Limits of outputs streamed to their file (`--max-output-pixels` and each format's own).
    public let outputLimits: OutputLimits
    private let sink: @Sendable (ProgressUpdate) -> Void
    private var start = Date()
    private var lastSent: Date?

    public init(requestID: RequestID, method: String, pathPolicy: PathPolicy, models: ModelHost,
                cancellation: CancellationToken, maxImagePixels: Int? = nil, maxOutputPixels: Int? = nil,
                progressSink: @escaping @Sendable (ProgressUpdate) -> Void) {
        self.imageLimits = ImageBudget.limits(configured: maxImagePixels)
        self.outputLimits = OutputLimits(maxPixels: maxOutputPixels ?? OutputLimits.defaultMaxPixels)
        self.requestID = requestID
        self.method = method
        self.pathPolicy = pathPolicy
        self.models = models
        self.cancellation = cancellation
        self.sink = progressSink
    }

    /// A context with a host of its own over `modelsDirectory` (tools and tests that run one operation).
    public convenience init(requestID: RequestID, method: String, pathPolicy: PathPolicy, modelsDirectory: String?,
                            cancellation: CancellationToken, maxImagePixels: Int? = nil, maxOutputPixels: Int? = nil,
                            progressSink: @escaping @Sendable (ProgressUpdate) -> Void) {
        self.init(requestID: requestID, method: method, pathPolicy: pathPolicy, models: ModelHost(directory: modelsDirectory),
                  cancellation: cancellation, maxImagePixels: maxImagePixels, maxOutputPixels: maxOutputPixels,
                  progressSink: progressSink)
    }

    /// Folder of model files (`--models`), nil when not configured.
    public var modelsDirectory: String? { models.directory }

    /// Called by the daemon on the worker thread just before `run`, so elapsed/remaining times in progress
    /// reports measure the run, not the wait in the queue.
    public func markStarted() {
        start = Date()
        lastSent = nil
    }

    /// Throws `PluginError.cancelled` once the job has been cancelled; call between steps and tiles.
    public func checkCancelled() throws {
        if let reason = cancellation.cancellationReason { throw PluginError.cancelled(reason: reason) }
    }

    public var elapsedSeconds: Double { Date().timeIntervalSince(start) }

    /// Reports progress. Reports closer than 50 ms apart are dropped (except a stage's final step) so a fast
    /// loop cannot flood the client's connection.
    public func progress(stage: String, step: Int? = nil, steps: Int? = nil, tile: Int? = nil, tiles: Int? = nil) {
        let now = Date()
        let isLast = step != nil && step == steps && (tile == nil || tile == tiles)
        if let lastSent, now.timeIntervalSince(lastSent) < 0.05, !isLast { return }
        lastSent = now
        var update = ProgressUpdate(stage: stage, step: step, steps: steps, tile: tile, tiles: tiles,
                                    elapsedSeconds: now.timeIntervalSince(start), remainingSeconds: nil)
        if let f = update.fraction, f > 0 {
            update.remainingSeconds = max(0, update.elapsedSeconds * (1 - f) / f)
        }
        sink(update)
    }
}
