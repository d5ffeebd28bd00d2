import PluginAPI
import StrictJSON

/// Everything `diffusiond serve` can be told, from flags or the config file.
public struct DaemonConfiguration: Sendable {
    /// Default line limit: a 16-megapixel RGBA PNG that does not compress is ~64 MB, ~85 MB as base64.
    public static let defaultMaxLineBytes = 96 << 20

    public var socketPath: String
    public var modelsDirectory: String?
    /// Bound of the resident models' weight bytes (`--memory-budget`); nil = unlimited.
    public var memoryBudgetBytes: Int?
    public var pluginsDirectory: String?
    public var threads: Int
    /// Jobs waiting behind the running one; one more gets a busy error.
    public var maxQueue: Int
    public var maxLineBytes: Int
    /// How long SIGTERM/shutdown lets the running job finish before cancelling it.
    public var shutdownGraceSeconds: Double
    public var pathPolicy: PathPolicy
    /// Pixel budget (width × height) for every image a job decodes or holds in memory; nil keeps the imaging default.
    public var maxImagePixels: Int?
    /// Pixel bound of outputs streamed to their file (the tiled upscale); nil = `OutputLimits.defaultMaxPixels`.
    public var maxOutputPixels: Int?
    /// Reported in capabilities/status (the OpenBLAS kernel the process runs with).
    public var blasCore: String
    /// Reported in capabilities as `precision`: which compute precisions are available and fast on this CPU, and why.
    public var precision: JSONValue = ["available": ["fp32"], "fast": ["fp32"], "cpu_flags": [], "bf16_hardware": "none",
                                       "amx_granted": .null, "reason": "not detected"]

    /// Runs on the worker thread after every job, before the next one starts: the executable uses it to give
    /// back memory the compute layers keep for reuse within a job, so an idle daemon holds only its models.
    public var afterEachJob: (@Sendable () -> Void)?

    public init(socketPath: String, modelsDirectory: String? = nil, pluginsDirectory: String? = nil, threads: Int = 2,
                maxQueue: Int = 16, maxLineBytes: Int = DaemonConfiguration.defaultMaxLineBytes,
                shutdownGraceSeconds: Double = 10, pathPolicy: PathPolicy = PathPolicy(), blasCore: String = "unknown", maxImagePixels: Int? = nil,
                memoryBudgetBytes: Int? = nil, maxOutputPixels: Int? = nil) {
        self.socketPath = socketPath
        self.modelsDirectory = modelsDirectory
        self.pluginsDirectory = pluginsDirectory
        self.threads = threads
        self.maxQueue = maxQueue
        self.maxLineBytes = maxLineBytes
        self.shutdownGraceSeconds = shutdownGraceSeconds
        self.pathPolicy = pathPolicy
        self.blasCore = blasCore
        self.maxImagePixels = maxImagePixels
        self.maxOutputPixels = maxOutputPixels
        self.memoryBudgetBytes = memoryBudgetBytes
    }
}
