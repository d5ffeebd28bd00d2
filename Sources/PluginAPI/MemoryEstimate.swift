import Engine
import StrictJSON

/// A job's expected peak memory, estimated before it starts (admission control): the weights of the models it
/// uses (resident or to be loaded) and its working memory (activations for its size and batch, tiles, kept
/// transforms, decoded images).
public struct MemoryEstimate: Equatable, Sendable {
    /// The models the job uses; the host may evict any other resident model to make room for it.
    public var models: [ModelKey]
    public var weightBytes: Int
    /// Of `weightBytes`, what is not resident yet.
    public var weightBytesToLoad: Int
    public var workingBytes: Int

    public init(models: [ModelKey] = [], weightBytes: Int = 0, weightBytesToLoad: Int = 0, workingBytes: Int) {
        self.models = models
        self.weightBytes = weightBytes
        self.weightBytesToLoad = weightBytesToLoad
        self.workingBytes = workingBytes
    }

    /// What `--memory-budget` must hold while the job runs: its models' weights plus its peak.
    public var totalBytes: Int { ByteEstimate.clamped(Double(weightBytes) + Double(workingBytes)) }
    /// What the machine must still provide: the weights to load plus the peak.
    public var additionalBytes: Int { ByteEstimate.clamped(Double(weightBytesToLoad) + Double(workingBytes)) }

    /// Adds a model the job uses, with the bf16 copies of its weights a bf16 job will still make (`bf16`): they
    /// stay with the model, so they count as weights to load.
    public mutating func add<F>(_ model: HostedFootprint<F>, bf16: Bool) {
        if bf16, !models.contains(model.key) {
            weightBytes += model.bf16PendingBytes
            weightBytesToLoad += model.bf16PendingBytes
        }
        add(model)
    }

    /// Adds a model the job uses.
    public mutating func add<F>(_ model: HostedFootprint<F>) {
        guard !models.contains(model.key) else { return }
        models.append(model.key)
        weightBytes += model.weightBytes
        weightBytesToLoad += model.bytesToLoad
    }
}

/// Operations that can tell their peak memory before running. The daemon refuses a job whose estimate does not
/// fit `--memory-budget` or the machine's available memory (-32008) before queueing it. An estimate must be
/// cheap (configs and file headers, never a load) and may return nil when it cannot tell (the job then runs).
public protocol MemoryEstimating {
    func estimateMemory(params: [String: JSONValue], context: JobContext) throws -> MemoryEstimate?
}
