import DiffusionProtocol
import Dispatch
import Engine
import Foundation
import Logging
import NIOCore
import NIOPosix
import PluginAPI
import StrictJSON

/// The Unix-socket server: accepts connections, frames lines, answers built-in methods and hands operation
/// requests to the job queue. `run()` returns after a graceful shutdown (SIGTERM/SIGINT or `shutdown`).
public final class DaemonServer: Sendable {
    let configuration: DaemonConfiguration
    let registry: PluginRegistry
    let logger: Logger
    let queue: JobQueue
    /// The resident models of every job (one budget for all kinds).
    public let models: ModelHost
    let startedAt = Date()

    private struct State {
        var listener: Channel?
        var shutdownRequested = false
        var nextConnectionID = 1
        var connections: [Int: (outbox: Outbox, channel: Channel)] = [:]
    }
    private let state = Locked(State())

    public init(configuration: DaemonConfiguration, registry: PluginRegistry, logger: Logger) {
        self.configuration = configuration
        self.registry = registry
        self.logger = logger
        self.models = ModelHost(directory: configuration.modelsDirectory, budgetBytes: configuration.memoryBudgetBytes)
        self.queue = JobQueue(maxQueue: configuration.maxQueue, logger: logger,
                              afterEachJob: configuration.afterEachJob)
    }

    /// Idempotent: stop accepting; `run()` then drains and returns.
    public func initiateShutdown() {
        let listener = state.withLock { s -> Channel? in
            s.shutdownRequested = true
            return s.listener
        }
        listener?.close(promise: nil)
    }

    public func run() async throws {
        let socket = SocketPathGuard(path: configuration.socketPath)
        try socket.acquire()
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let maxLine = configuration.maxLineBytes
        let logger = self.logger
        let listener: NIOAsyncChannel<NIOAsyncChannel<InboundFrame, ByteBuffer>, Never>
        do {
            listener = try await ServerBootstrap(group: group)
                .serverChannelOption(ChannelOptions.backlog, value: 256)
                .childChannelOption(ChannelOptions.allowRemoteHalfClosure, value: true)
                .bind(unixDomainSocketPath: configuration.socketPath, cleanupExistingSocketFile: false) { channel in
                    PeerCredentials.check(channel, logger: logger).flatMapThrowing {
                        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(LineFrameDecoder(maxLineBytes: maxLine)))
                        return try NIOAsyncChannel<InboundFrame, ByteBuffer>(
                            wrappingChannelSynchronously: channel,
                            configuration: .init(isOutboundHalfClosureEnabled: true))
                    }
                }
        } catch {
            socket.bindFailed()
            try? await group.shutdownGracefully()
            throw error
        }
        socket.didBind()
        let alreadyStopping = state.withLock { s -> Bool in
            s.listener = listener.channel
            return s.shutdownRequested
        }
        if alreadyStopping { listener.channel.close(promise: nil) }
        logger.notice("listening", metadata: ["socket": "\(configuration.socketPath)", "operations": "\(registry.entries.keys.sorted().joined(separator: ","))",
                                              "max_queue": "\(configuration.maxQueue)", "max_line_bytes": "\(maxLine)"])

        // The worker is not a child of the group below: shutdown must be able to finish even if a plugin
        // never returns (drain answers for it after a bounded wait; exiting ends the worker thread).
        let queue = self.queue
        Task { await queue.runWorker() }
        try await withThrowingDiscardingTaskGroup { group in
            do {
                try await listener.executeThenClose { inbound in
                    for try await connection in inbound {
                        let id = self.state.withLock { s -> Int in
                            defer { s.nextConnectionID += 1 }
                            return s.nextConnectionID
                        }
                        group.addTask { await self.serve(connection, id: id) }
                    }
                }
            } catch {
                // The listener closing during shutdown can surface as an error; either way we drain below.
                logger.debug("listener ended", metadata: ["error": "\(error)"])
            }
            logger.notice("shutting down: no longer accepting connections")
            socket.removeSocket()
            await queue.drain(grace: configuration.shutdownGraceSeconds)
            await self.closeConnections()
        }
        socket.releaseLock()
        try? await group.shutdownGracefully()
        logger.notice("stopped")
    }

    /// Every answer is queued by now: let each writer flush and half-close, then force-close stragglers
    /// (a client that never closes its end must not keep the daemon alive).
    private func closeConnections() async {
        let outboxes = state.withLock { $0.connections.values.map(\.outbox) }
        for outbox in outboxes { outbox.finish() }
        let deadline = Date().addingTimeInterval(2)
        while Date() < deadline, state.withLock({ !$0.connections.isEmpty }) {
            try? await Task.sleep(nanoseconds: 20_000_000)
        }
        for channel in state.withLock({ $0.connections.values.map(\.channel) }) { channel.close(promise: nil) }
    }

    private func serve(_ connection: NIOAsyncChannel<InboundFrame, ByteBuffer>, id: Int) async {
        let (stream, continuation) = AsyncStream<JSONValue>.makeStream()
        let outbox = Outbox(connectionID: id, continuation: continuation)
        let rejected = state.withLock { s -> Bool in
            if s.shutdownRequested { return true }
            s.connections[id] = (outbox, connection.channel)
            return false
        }
        if rejected { connection.channel.close(promise: nil); return }
        logger.debug("connection opened", metadata: ["conn": "\(id)"])
        do {
            try await connection.executeThenClose { inbound, outbound in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        do {
                            for await message in stream {
                                var buffer = ByteBuffer(bytes: JSONWriter.serializeBytes(message))
                                buffer.writeInteger(UInt8(ascii: "\n"))
                                try await outbound.write(buffer)
                                outbox.didWrite()
                            }
                            outbound.finish()
                        } catch {
                            // The client is gone: keep consuming so producers never block on a dead connection.
                            outbox.didWrite()
                            for await _ in stream { outbox.didWrite() }
                        }
                    }
                    do {
                        for try await frame in inbound {
                            switch frame {
                            case .line(let buffer):
                                // Backpressure: stop reading while this client leaves its answers unread.
                                while outbox.backlog > Outbox.maxBacklog { try await Task.sleep(nanoseconds: 5_000_000) }
                                await self.handleLine(Array(buffer.readableBytesView), outbox: outbox)
                                continue
                            case .tooLong(let limit):
                                let error = RPCError(code: RPCErrorCode.lineTooLong,
                                                     message: "line too long: a request may be at most \(limit) bytes (--max-line-bytes); the connection is closed. Send large images by path instead of base64",
                                                     data: ["limit": JSONValue(limit)])
                                outbox.send(RPCMessage.error(id: nil, error))
                                self.logger.info("request", metadata: ["conn": "\(id)", "outcome": "error \(RPCErrorCode.lineTooLong): line over \(limit) bytes, closing"])
                            }
                            break
                        }
                    } catch {
                        self.logger.debug("connection read ended", metadata: ["conn": "\(id)", "error": "\(error)"])
                    }
                    await self.queue.cancelAll(connection: id, reason: "the client disconnected")
                    outbox.finish()
                    try await group.waitForAll()
                }
            }
        } catch {
            logger.debug("connection ended with error", metadata: ["conn": "\(id)", "error": "\(error)"])
        }
        _ = state.withLock { $0.connections.removeValue(forKey: id) }
        logger.debug("connection closed", metadata: ["conn": "\(id)"])
    }

    func handleLine(_ bytes: [UInt8], outbox: Outbox) async {
        let start = Date()
        func log(_ id: RequestID?, _ method: String, _ outcome: String) {
            logger.info("request", metadata: ["id": "\(id.map { "\($0)" } ?? "null")", "method": "\(method)", "conn": "\(outbox.connectionID)",
                                              "duration_ms": "\(Int(Date().timeIntervalSince(start) * 1000))", "outcome": "\(outcome)"])
        }
        func reply(_ id: RequestID?, _ method: String, _ result: Result<JSONValue, RPCError>) {
            switch result {
            case .success(let value):
                outbox.send(RPCMessage.result(id: id ?? .integer(0), value))
                log(id, method, "ok")
            case .failure(let error):
                outbox.send(RPCMessage.error(id: id, error))
                log(id, method, "error \(error.code): \(error.message)")
            }
        }
        if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { return }  // blank lines are keep-alives
        let json: JSONValue
        do {
            json = try JSONParser.parse(bytes, maxDepth: JSONParser.defaultMaxDepth)
        } catch let e as JSONParseError {
            reply(nil, "-", .failure(RPCError(code: RPCErrorCode.parseError, message: "parse error: \(e); send one JSON object per line",
                                              data: ["reason": .string(e.description)])))
            return
        } catch {
            reply(nil, "-", .failure(RPCError(code: RPCErrorCode.parseError, message: "parse error: \(error)")))
            return
        }
        let request: RPCRequest
        switch RPCRequest.from(json) {
        case .failure(let envelope):
            reply(envelope.id, "-", .failure(envelope.error))
            return
        case .success(let r):
            request = r
        }
        if let schema = BuiltinMethods.schemas[request.method] {
            do { try SchemaValidator.validate(.object(request.params), against: schema) } catch let v as SchemaViolation {
                reply(request.id, request.method, .failure(.invalidParams(field: v.field, reason: v.reason)))
                return
            } catch {}
            reply(request.id, request.method, await builtin(request, outbox: outbox))
            if request.method == "shutdown" {
                logger.notice("shutdown requested by a client", metadata: ["conn": "\(outbox.connectionID)"])
                initiateShutdown()
            }
            return
        }
        guard let plugin = registry[request.method] else {
            reply(request.id, request.method, .failure(RPCError(code: RPCErrorCode.methodNotFound,
                message: "unknown method \"\(request.method)\"; call capabilities for the list of methods",
                data: ["method": .string(request.method)])))
            return
        }
        do { try SchemaValidator.validate(.object(request.params), against: plugin.paramsSchema) } catch let v as SchemaViolation {
            reply(request.id, request.method, .failure(.invalidParams(field: v.field, reason: v.reason)))
            return
        } catch {}
        if plugin.scheduling == .immediate {
            reply(request.id, request.method, await runImmediately(plugin, request))
            return
        }
        let job = Job(key: JobKey(connection: outbox.connectionID, id: request.id), method: request.method, params: request.params,
                      plugin: plugin, outbox: outbox, pathPolicy: configuration.pathPolicy, models: models,
                      maxImagePixels: configuration.maxImagePixels, maxOutputPixels: configuration.maxOutputPixels)
        if let estimating = plugin as? any MemoryEstimating {
            if let refusal = await admit(job, estimating) {
                reply(request.id, request.method, .failure(refusal))
                return
            }
        }
        if let error = await queue.submit(job) {
            reply(request.id, request.method, .failure(error))
        }
    }

    /// Estimates the job's peak (file headers only, on a dispatch thread) and refuses it if it cannot fit; an
    /// estimate that fails is left to the job, which reports the same problem when it runs.
    private func admit(_ job: Job, _ plugin: any MemoryEstimating) async -> RPCError? {
        let params = job.params, context = job.context
        let estimate: MemoryEstimate? = await withCheckedContinuation { continuation in
            DispatchQueue.global(qos: .userInitiated).async {
                continuation.resume(returning: try? plugin.estimateMemory(params: params, context: context))
            }
        }
        guard let estimate else { return nil }
        job.estimate.withLock { $0 = estimate }
        let held = await queue.heldByRunningJob()
        let admission = MemoryAdmission(budgetBytes: models.budgetBytes,
                                        availableBytes: MemoryUsage.availableBytes().map { $0 + held })
        guard let refusal = admission.refusal(for: estimate) else { return nil }
        logger.info("request refused (memory)", metadata: ["id": "\(job.key.id)", "method": "\(job.method)",
                                                             "estimated_bytes": "\(estimate.totalBytes)"])
        return refusal
    }

    /// Runs an immediate operation beside the queue, on a dispatch thread so file reads never block the
    /// event loop or Swift's cooperative pool. It reports `timings` as a job does (queue_ms is 0).
    private func runImmediately(_ plugin: any OperationPlugin, _ request: RPCRequest) async -> Result<JSONValue, RPCError> {
        let context = JobContext(requestID: request.id, method: request.method, pathPolicy: configuration.pathPolicy, models: models,
                                 cancellation: CancellationToken(), maxImagePixels: configuration.maxImagePixels,
                                 maxOutputPixels: configuration.maxOutputPixels,
                                 progressSink: { _ in })
        let params = request.params
        let started = Date()
        let outcome: Result<JSONValue, RPCError> = await withCheckedContinuation { continuation in
            DispatchQueue.global(qos: .userInitiated).async {
                continuation.resume(returning: PluginInvocation.run(plugin, params: params, context: context))
            }
        }
        return outcome.map { result in
            guard case .object(var o) = result, o["timings"] == nil else { return result }
            o["timings"] = ["queue_ms": 0, "run_ms": JSONValue(Int(Date().timeIntervalSince(started) * 1000))]
            return .object(o)
        }
    }

    private func builtin(_ request: RPCRequest, outbox: Outbox) async -> Result<JSONValue, RPCError> {
        switch request.method {
        case "ping":
            return .success(["pong": true])
        case "capabilities":
            return .success(capabilities)
        case "status":
            return .success(await status())
        case "cancel":
            guard let id = request.params["id"].flatMap(RequestID.init(json:)) else {
                return .failure(.invalidParams(field: "id", reason: "must be an integer or a string"))
            }
            return await queue.cancel(id: id, from: outbox.connectionID)
        case "shutdown":
            return .success(["shutting_down": true])
        default:
            return .failure(RPCError(code: RPCErrorCode.methodNotFound, message: "unknown method \"\(request.method)\""))
        }
    }

    /// The daemon's own members plus those the plugins contribute (the generation operations' samplers,
    /// schedulers and rngs); registration keeps the two sets apart.
    var capabilities: JSONValue {
        var members = registry.capabilityMembers
        for (key, value) in daemonCapabilities { members[key] = value }
        return .object(members)
    }

    private var daemonCapabilities: [String: JSONValue] {
        [
            "protocol_version": .string(ProtocolVersion.protocolVersion),
            "daemon_version": .string(ProtocolVersion.daemonVersion),
            "methods": BuiltinMethods.capabilitiesJSON,
            "operations": registry.capabilitiesJSON,
            "limits": [
                "max_line_bytes": JSONValue(configuration.maxLineBytes),
                "max_queue": JSONValue(configuration.maxQueue),
                "max_json_depth": JSONValue(JSONParser.defaultMaxDepth),
                "max_input_bytes": JSONValue(configuration.pathPolicy.maxInputBytes),
                "max_image_pixels": JSONValue(ImageBudget.maxPixels(configured: configuration.maxImagePixels)),
                "max_output_pixels": JSONValue(configuration.maxOutputPixels ?? OutputLimits.defaultMaxPixels),
            ],
            "blas_core": .string(configuration.blasCore),
            "threads": JSONValue(configuration.threads),
            "precision": configuration.precision,
        ]
    }

    func status() async -> JSONValue {
        guard case .object(var o) = await queue.statusJSON() else { return .null }
        o["models_loaded"] = .array(models.residentModels().map(ModelReport.resident))
        o["resident_bytes"] = JSONValue(models.residentBytes)
        o["memory_budget_bytes"] = models.budgetBytes.map { JSONValue($0) } ?? .null
        o["memory"] = ["rss_bytes": MemoryUsage.residentBytes().map { JSONValue($0) } ?? .null]
        o["connections"] = JSONValue(state.withLock { $0.connections.count })
        o["uptime_ms"] = JSONValue(Int(Date().timeIntervalSince(startedAt) * 1000))
        o["blas_core"] = .string(configuration.blasCore)
        return .object(o)
    }
}
