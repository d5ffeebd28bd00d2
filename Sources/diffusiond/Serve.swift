import ArgumentParser
import Builtins
import Daemon
import DiffusionProtocol
import Engine
import Foundation
import Imaging
import Logging
import Models
import PluginAPI
import ServiceLifecycle
import Tensor

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the daemon in the foreground until SIGTERM/SIGINT or a shutdown request.")

    @Option(help: "Unix socket path (default: $XDG_RUNTIME_DIR/diffusiond/diffusiond.sock, else /tmp/diffusiond-$UID/diffusiond.sock).")
    var socket: String?
    @Option(help: "Folder of model files.")
    var models: String?
    @Option(help: "Memory budget in bytes (K/M/G suffixes, e.g. 12G) for resident model weights plus the running job's estimated peak: least recently used models are evicted beyond it, and a job that cannot fit is refused with -32008 (default: unlimited; jobs are still checked against MemAvailable).")
    var memoryBudget: String?
    @Option(help: "Folder of external operation plugins (*.so, C ABI in protocol/c/diffusiond_plugin.h).")
    var plugins: String?
    @Option(help: "Weight matrices resident as: stored (fp16/bf16 checkpoints stay 2 bytes per value, exact; fp32 files stay fp32), half (also narrow fp32 files to fp16, lossy) or fp32 (widen all at load) (default stored).")
    var weights: String?
    @Option(help: "Compute precision of the models: fp32 (reference, bit-identical), bf16 (bf16 GEMMs, fp32 norms/softmax/residuals/sampler) or auto (bf16 only where this CPU measured it faster at start-up); requests may override it with `precision` (default fp32).")
    var precision: String?

    @Option(help: "Compute threads for BLAS and image processing (default: all cores).")
    var threads: Int?
    @Option(help: "Jobs that may wait behind the running one before requests get a busy error (default 16).")
    var maxQueue: Int?
    @Option(help: "Longest accepted request line in bytes (default 100663296 = 96 MiB, enough for a base64 16-megapixel PNG).")
    var maxLineBytes: Int?
    @Option(help: "Largest input image file in bytes (default 536870912).")
    var maxInputBytes: Int?
    @Option(help: "Largest image, in pixels (width × height), a job may decode or hold in memory (default 268435456 = 16384², 2 GiB decoded; higher or lower).")
    var maxImagePixels: Int?
    @Option(help: "Largest output, in pixels, a job may stream to a file, e.g. a tiled upscale (default 4000000000).")
    var maxOutputPixels: Int?
    @Option(help: "Restrict image inputs and outputs to this folder (repeatable). Default: any absolute path the daemon's user can access.")
    var allowDir: [String] = []
    @Option(help: "Seconds a running job may take to finish on shutdown before it is cancelled (default 10).")
    var shutdownGrace: Double?
    @Option(help: "trace, debug, info, notice, warning, error or critical (default info).")
    var logLevel: String?
    @Option(help: "JSON config file with the same keys (snake_case); flags win.")
    var config: String?

    func run() async throws {
        // First: may re-execute this process with a faster OpenBLAS kernel (before any socket or file is touched).
        let kernelDecision = OpenBLASRuntime.ensureFastKernel()
        let file = try config.map(ConfigFile.init(path:))
        let levelName = try logLevel ?? file?.string("log_level") ?? "info"
        guard let level = Logger.Level(rawValue: levelName) else {
            throw ValidationError("unknown log level \(levelName); use trace, debug, info, notice, warning, error or critical")
        }
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "diffusiond")

        let weightsText = try weights ?? file?.string("weights") ?? WeightResidency.stored.rawValue
        guard let residency = WeightResidency(rawValue: weightsText) else {
            throw ValidationError("--weights \(weightsText): use " + WeightResidency.allCases.map(\.rawValue).joined(separator: ", "))
        }
        WeightResidency.processDefault = residency
        let precisionText = try precision ?? file?.string("precision") ?? PrecisionSetting.fp32.rawValue
        guard let precisionSetting = PrecisionSetting(rawValue: precisionText) else {
            throw ValidationError("--precision \(precisionText): use " + PrecisionSetting.names.joined(separator: ", "))
        }
        let threads = try threads ?? file?.int("threads") ?? ProcessInfo.processInfo.activeProcessorCount
        let maxQueue = try maxQueue ?? file?.int("max_queue") ?? 16
        let maxLine = try maxLineBytes ?? file?.int("max_line_bytes") ?? DaemonConfiguration.defaultMaxLineBytes
        let maxInput = try maxInputBytes ?? file?.int("max_input_bytes") ?? (512 << 20)
        let maxPixels = try maxImagePixels ?? file?.int("max_image_pixels")
        if let maxPixels, maxPixels < 1 { throw ValidationError("--max-image-pixels must be at least 1") }
        let maxOutput = try maxOutputPixels ?? file?.int("max_output_pixels")
        if let maxOutput, maxOutput < 1 { throw ValidationError("--max-output-pixels must be at least 1") }
        guard threads >= 1, threads <= 1024 else { throw ValidationError("--threads must be between 1 and 1024") }
        guard maxQueue >= 0 else { throw ValidationError("--max-queue must be 0 or more") }
        guard maxLine >= 1024 else { throw ValidationError("--max-line-bytes must be at least 1024") }
        let allowDirs = try allowDir.isEmpty ? (file?.strings("allow_dir") ?? []) : allowDir
        for dir in allowDirs where !dir.hasPrefix("/") { throw ValidationError("--allow-dir \(dir) must be an absolute path") }

        var budget: Int?
        if let text = try memoryBudget ?? file?.string("memory_budget") ?? ProcessInfo.processInfo.environment["DIFFUSIOND_MEMORY_BUDGET"] {
            guard let bytes = ByteCount.parse(text), bytes > 0 else {
                throw ValidationError("--memory-budget \(text): give bytes, or a number with K, M or G")
            }
            budget = bytes
        }

        OpenBLASRuntime.setThreads(threads)
        try Imaging.initialize(threads: threads)
        let core = OpenBLASRuntime.corename()
        // Here, after the OpenBLAS re-exec: Linux's AMX permission belongs to the process image that asked.
        // The bf16-vs-fp32 timing runs only when `auto` needs it (a few milliseconds on the compute pool).
        let precision = PrecisionSupport.detect(requestAMX: true, benchmark: precisionSetting == .auto)
        PrecisionSetting.processAutomatic = precision.automatic
        PrecisionSetting.processDefault = precisionSetting
        logger.notice("starting", metadata: ["version": "\(ProtocolVersion.daemonVersion)", "openblas_core": "\(core)", "threads": "\(threads)",
                                             "openblas_kernel": "\(kernelDecision)", "cpu_flags": "\(precision.cpuFlags.joined(separator: ","))",
                                             "bf16": "\(precision.bf16Hardware.rawValue)",
                                             "precision": "\(precisionSetting.rawValue) -> \(PrecisionSetting.forRequest(nil).rawValue)"])

        var registry = try PluginRegistry(builtin: BuiltinPlugins.all())
        if let dir = try plugins ?? file?.string("plugins") { try registry.loadExternal(directory: dir) }

        var configuration = DaemonConfiguration(
            socketPath: try socket ?? file?.string("socket") ?? DefaultSocketPath.path,
            modelsDirectory: try models ?? file?.string("models"),
            pluginsDirectory: try plugins ?? file?.string("plugins"),
            threads: threads, maxQueue: maxQueue, maxLineBytes: maxLine,
            shutdownGraceSeconds: try shutdownGrace ?? file?.double("shutdown_grace") ?? 10,
            pathPolicy: PathPolicy(allowedRoots: allowDirs, maxInputBytes: maxInput),
            blasCore: core, maxImagePixels: maxPixels, memoryBudgetBytes: budget, maxOutputPixels: maxOutput)
        // Tensor keeps freed large buffers for reuse inside a job; between jobs that memory goes back to the system.
        configuration.precision = precision.json(setting: precisionSetting)
        configuration.afterEachJob = { TensorBufferCache.purge() }
        let server = DaemonServer(configuration: configuration, registry: registry, logger: logger)
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(
            services: [.init(service: DaemonService(server: server), successTerminationBehavior: .gracefullyShutdownGroup)],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger))
        do {
            try await group.run()
        } catch {
            logger.critical("diffusiond failed: \(error)")
            throw ExitCode(1)
        }
    }
}
