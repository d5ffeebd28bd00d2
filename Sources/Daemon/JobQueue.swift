import DiffusionProtocol
import Foundation
import Logging
import PluginAPI
import StrictJSON
import Tensor

/// The bounded queue and its single worker. The work is CPU-bound and already parallel inside (BLAS, vips),
/// so running two jobs at once would only make both slower.
actor JobQueue {
    let maxQueue: Int
    let logger: Logger
    let afterEachJob: (@Sendable () -> Void)?
    private let worker = WorkerThread(name: "diffusiond-worker")
    private var pending: [Job] = []
    private var running: Job?
    private var runningSince = Date()
    /// Resident memory when the running job started: what it holds above this is freed when it ends.
    private var runningBaseRSS = 0
    private var accepting = true
    private var wakeUp: CheckedContinuation<Void, Never>?

    init(maxQueue: Int, logger: Logger, afterEachJob: (@Sendable () -> Void)? = nil) {
        self.maxQueue = maxQueue
        self.logger = logger
        self.afterEachJob = afterEachJob
    }

    /// Accepts a job or returns the error to send at once (busy, duplicate id, shutting down).
    func submit(_ job: Job) -> RPCError? {
        guard accepting else {
            return RPCError(code: RPCErrorCode.shuttingDown, message: "the daemon is shutting down; resend the request after it restarts")
        }
        if running?.key == job.key || pending.contains(where: { $0.key == job.key }) {
            return RPCError(code: RPCErrorCode.invalidRequest,
                            message: "invalid request: id \(job.key.id) is already used by an unfinished job on this connection; use a new id",
                            data: ["field": "id"])
        }
        let idle = running == nil && pending.isEmpty
        guard idle || pending.count < maxQueue else {
            return RPCError(code: RPCErrorCode.busy,
                            message: "busy: \(pending.count) jobs are already waiting (the limit is --max-queue \(maxQueue)); retry later",
                            data: ["queue_length": JSONValue(pending.count), "max_queue": JSONValue(maxQueue)])
        }
        pending.append(job)
        job.outbox.send(RPCMessage.notification(NotificationName.queued, ["id": job.key.id.json, "position": JSONValue(pending.count)]))
        wake()
        return nil
    }

    /// The queue moved: every job from `index` on has a new position, and its client hears it (position 1
    /// runs next), so a client can show where it stands without polling `status`.
    private func announcePositions(from index: Int) {
        guard index < pending.count else { return }
        for position in index..<pending.count {
            let job = pending[position]
            job.outbox.send(RPCMessage.notification(NotificationName.queued, ["id": job.key.id.json, "position": JSONValue(position + 1)]))
        }
    }

    private func wake() {
        wakeUp?.resume()
        wakeUp = nil
    }

    /// The worker loop; returns once shutdown has begun and nothing is left to run.
    func runWorker() async {
        while true {
            if !pending.isEmpty {
                let job = pending.removeFirst()
                announcePositions(from: 0)
                await execute(job)
                continue
            }
            if !accepting { return }
            await withCheckedContinuation { wakeUp = $0 }
        }
    }

    private func execute(_ job: Job) async {
        running = job
        runningSince = Date()
        runningBaseRSS = MemoryUsage.residentBytes() ?? 0
        let estimate = job.estimate.withLock { $0 }
        job.context.models.reserveWorkingMemory(estimate?.workingBytes ?? 0, keeping: estimate?.models ?? [])
        defer {
            running = nil
            job.context.models.reserveWorkingMemory(0, keeping: [])
        }
        let started = Date()
        job.outbox.send(RPCMessage.notification(NotificationName.started, ["id": job.key.id.json, "method": .string(job.method)]))
        let outcome: Result<JSONValue, RPCError> = await worker.run { [afterEachJob] in
            defer { afterEachJob?() }
            return Self.invoke(job)
        }
        let finished = Date()
        if job.abandoned.withLock({ $0 }) { return }  // shutdown already answered it
        let queueMs = Int(started.timeIntervalSince(job.enqueuedAt) * 1000)
        let runMs = Int(finished.timeIntervalSince(started) * 1000)
        switch outcome {
        case .success(var result):
            if case .object(var o) = result, o["timings"] == nil {
                o["timings"] = ["queue_ms": JSONValue(queueMs), "run_ms": JSONValue(runMs)]
                result = .object(o)
            }
            job.outbox.send(RPCMessage.result(id: job.key.id, result))
            logger.info("request", metadata: ["id": "\(job.key.id)", "method": "\(job.method)", "conn": "\(job.key.connection)",
                                               "queue_ms": "\(queueMs)", "duration_ms": "\(runMs)", "outcome": "ok"])
        case .failure(let error):
            job.outbox.send(RPCMessage.error(id: job.key.id, error))
            logger.info("request", metadata: ["id": "\(job.key.id)", "method": "\(job.method)", "conn": "\(job.key.connection)",
                                               "queue_ms": "\(queueMs)", "duration_ms": "\(runMs)",
                                               "outcome": "error \(error.code): \(error.message)"])
        }
    }

    /// Runs on the worker thread.
    private static func invoke(_ job: Job) -> Result<JSONValue, RPCError> {
        // Admitted while another job ran: what is resident and available may have changed while it waited.
        if job.estimate.withLock({ $0 }) != nil, let estimating = job.plugin as? any MemoryEstimating,
           let estimate = try? estimating.estimateMemory(params: job.params, context: job.context) {
            job.estimate.withLock { $0 = estimate }
            let admission = MemoryAdmission(budgetBytes: job.context.models.budgetBytes, availableBytes: MemoryUsage.availableBytes())
            if let refusal = admission.refusal(for: estimate) { return .failure(refusal) }
        }
        job.context.markStarted()
        return PluginInvocation.run(job.plugin, params: job.params, context: job.context)
    }

    /// Cancels by id: the caller's own job first, otherwise the single job with that id on any connection
    /// (all clients are the same user, so `diffusionctl cancel ID` may cancel another connection's job).
    func cancel(id: RequestID, from connection: Int) -> Result<JSONValue, RPCError> {
        let all = (running.map { [$0] } ?? []) + pending
        var candidates = all.filter { $0.key == JobKey(connection: connection, id: id) }
        if candidates.isEmpty { candidates = all.filter { $0.key.id == id } }
        guard let job = candidates.first else {
            return .failure(RPCError(code: RPCErrorCode.jobNotFound,
                                     message: "no queued or running job has id \(id); it may have finished already (see status)",
                                     data: ["id": id.json]))
        }
        guard candidates.count == 1 else {
            return .failure(RPCError(code: RPCErrorCode.invalidParams,
                                     message: "invalid params: id \(id) is used by \(candidates.count) jobs on other connections; cancel from the connection that sent it",
                                     data: ["field": "id", "reason": "is ambiguous"]))
        }
        if let index = pending.firstIndex(where: { $0 === job }) {
            pending.remove(at: index)
            job.token.cancel(reason: "request cancelled")
            job.outbox.send(RPCMessage.error(id: job.key.id, .cancelled("request cancelled while queued")))
            announcePositions(from: index)
            logger.info("request", metadata: ["id": "\(job.key.id)", "method": "\(job.method)", "conn": "\(job.key.connection)",
                                               "duration_ms": "0", "outcome": "cancelled while queued"])
            return .success(["id": id.json, "cancelled": true, "state": "queued"])
        }
        job.token.cancel(reason: "request cancelled")
        return .success(["id": id.json, "cancelled": true, "state": "running"])
    }

    /// A client went away: drop its queued jobs and stop its running one.
    func cancelAll(connection: Int, reason: String) {
        let mine = pending.filter { $0.key.connection == connection }
        let firstMoved = pending.firstIndex { $0.key.connection == connection }
        pending.removeAll { $0.key.connection == connection }
        if let firstMoved { announcePositions(from: firstMoved) }
        for job in mine {
            job.token.cancel(reason: reason)
            job.outbox.send(RPCMessage.error(id: job.key.id, .cancelled(reason)))
            logger.info("request", metadata: ["id": "\(job.key.id)", "method": "\(job.method)", "conn": "\(connection)",
                                               "outcome": "cancelled: \(reason)"])
        }
        if let running, running.key.connection == connection { running.token.cancel(reason: reason) }
    }

    /// Stops accepting, answers every queued job, lets the running one finish for up to `grace` seconds
    /// and then cancels it; returns once the worker is idle (bounded by the plugin honouring cancellation).
    func drain(grace: Double) async {
        accepting = false
        let queued = pending
        pending.removeAll()
        for job in queued {
            job.token.cancel(reason: "daemon shutting down")
            job.outbox.send(RPCMessage.error(id: job.key.id, .cancelled("the daemon is shutting down; the request was not run, resend it after restart")))
        }
        wake()
        let deadline = Date().addingTimeInterval(grace)
        while running != nil, Date() < deadline { try? await Task.sleep(nanoseconds: 20_000_000) }
        running?.token.cancel(reason: "the daemon is shutting down; the request was stopped, resend it after restart")
        // A plugin that never checks cancellation must not keep the daemon from exiting: after a second
        // bounded wait, answer for it and let the process exit (which ends the worker thread).
        let hardDeadline = Date().addingTimeInterval(max(5, grace))
        while running != nil, Date() < hardDeadline { try? await Task.sleep(nanoseconds: 20_000_000) }
        if let stuck = running {
            stuck.abandoned.withLock { $0 = true }
            stuck.outbox.send(RPCMessage.error(id: stuck.key.id, .cancelled("the daemon is shutting down and the operation did not stop in time; resend it after restart")))
            logger.warning("abandoning a job that ignored cancellation", metadata: ["id": "\(stuck.key.id)", "method": "\(stuck.method)"])
        }
    }

    /// Memory the running job holds beyond what the process held when it started (0 when idle).
    func heldByRunningJob() -> Int {
        guard running != nil, let now = MemoryUsage.residentBytes() else { return 0 }
        return max(0, now - runningBaseRSS)
    }

    /// The precision a running generation computes in: its `precision` (or `refine.precision`) member, else the
    /// daemon's; nil for operations that take no precision. Values were schema-checked before the job queued.
    static func precision(of job: Job) -> ComputePrecision? {
        let properties = job.plugin.paramsSchema["properties"]
        if properties?["precision"] != nil {
            return PrecisionSetting.forRequest(job.params["precision"]?.stringValue.flatMap(PrecisionSetting.init(rawValue:)))
        }
        guard let refine = job.params["refine"] else { return nil }
        return PrecisionSetting.forRequest(refine["precision"]?.stringValue.flatMap(PrecisionSetting.init(rawValue:)))
    }

    func statusJSON() -> JSONValue {
        var runningJSON: JSONValue = .null
        if let job = running {
            var o: [String: JSONValue] = ["id": job.key.id.json, "method": .string(job.method),
                                          "elapsed_ms": JSONValue(Int(Date().timeIntervalSince(runningSince) * 1000))]
            if let estimate = job.estimate.withLock({ $0 }) { o["estimated_bytes"] = JSONValue(estimate.totalBytes) }
            if let precision = Self.precision(of: job) { o["precision"] = .string(precision.rawValue) }
            if let p = job.latestProgress.withLock({ $0 }) {
                var progress = Job.progressParams(id: job.key.id, p)
                progress["id"] = nil
                o["progress"] = .object(progress)
            }
            runningJSON = .object(o)
        }
        return ["queue_length": JSONValue(pending.count), "max_queue": JSONValue(maxQueue), "running": runningJSON]
    }
}
