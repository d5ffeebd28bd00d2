import DiffusionProtocol
import Engine
import Foundation
import Models
import StrictJSON

/// One named thing `diffusiond-bench` times: ours against PyTorch's equivalent, alternating (or one side
/// after the other, `BenchOrder.sequential`).
///
/// To add a workload: a type conforming to this protocol (in its own file) plus one line in
/// `BenchSuite.sd` or `.sdxl`. `prepare` builds inputs once (untimed); `run` is one timed call; `release`
/// drops what `prepare` and `run` kept, before the sequential order hands the machine to PyTorch.
protocol BenchWorkload: AnyObject {
    /// Short name for `--workloads` and the table, e.g. "unet-512".
    var name: String { get }
    /// What is timed, for the table's legend.
    var title: String { get }
    /// Timed repetitions when `--repeats` is not given (expensive workloads use fewer).
    var defaultRepeats: Int { get }
    /// Whether an untimed call of each side runs first (caches, lazily touched weights, thread start-up).
    var warmsUp: Bool { get }
    /// The target for ours/PyTorch (nil: none stated).
    var targetRatio: Double? { get }
    /// The request for scripts/bench/torch_worker.py (its "kind" and parameters), nil when PyTorch has no
    /// counterpart. The bench adds "op".
    var torchRequest: [String: JSONValue]? { get }
    /// Nominal FLOPs of one call (see `BenchFLOPs`), nil when not meaningful.
    func nominalFLOPs(_ context: BenchContext) throws -> Double?
    /// Extra lines for the report, known after the runs (e.g. the sampling loop's overhead).
    var notes: [String] { get }
    /// The bench records the peak resident memory of the first timed call (both sides).
    var measuresPeakMemory: Bool { get }
    func prepare(_ context: BenchContext) throws
    func run(_ context: BenchContext) throws
    func release()
    /// Asks the PyTorch worker what the notes compare beyond timings (after both sides ran; ours may be released).
    func compare(with torch: BenchTorchWorker) throws
}

extension BenchWorkload {
    var defaultRepeats: Int { 3 }
    var warmsUp: Bool { true }
    var targetRatio: Double? { nil }
    var notes: [String] { [] }
    var measuresPeakMemory: Bool { false }
    func release() {}
    func compare(with torch: BenchTorchWorker) throws {}
}

/// What workloads share: the model under test, loaded once on first use, and its memory readings.
final class BenchContext {
    let modelPath: String
    private(set) var loadSeconds: Double?
    /// Our memory just before and just after the model load.
    private(set) var memoryBeforeLoad: BenchMemory?
    private(set) var memoryAfterLoad: BenchMemory?
    private var loaded: LoadedModel?

    init(modelPath: String) {
        self.modelPath = modelPath
    }

    var isLoaded: Bool { loaded != nil }

    /// The Stable Diffusion model at `modelPath` (a diffusers folder or a single file) with its tokenizer,
    /// loaded the way the daemon loads models.
    func model() throws -> LoadedModel {
        if let loaded { return loaded }
        memoryBeforeLoad = BenchMemory.current()
        let start = BenchClock.now()
        let model = try LoadedModel.load(name: "bench", path: modelPath)
        loadSeconds = BenchClock.seconds(since: start)
        memoryAfterLoad = BenchMemory.current()
        loaded = model
        return model
    }

    /// The networks of `model()`.
    func models() throws -> StableDiffusionModels { try model().networks }

    /// Drops the model (the workloads must have released their inputs and results, which may share its
    /// tensors); `model()` would load it again. Freed memory goes back to the system with the buffer purge.
    func release() {
        loaded = nil
    }
}

/// Monotonic wall-clock time (what a user waits for).
enum BenchClock {
    static func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }
    static func seconds(since start: UInt64) -> Double { Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
}
