import Tensor
import Weights

/// Strict, one-shot access to a component's weights while a network is being built.
///
/// Layers ask for each tensor by its diffusers name together with the shape the configuration implies;
/// the reader checks the shape *before* reading data, remembers what was consumed, and `finish()` fails
/// when the source holds tensors nobody asked for. Networks resolve all their weights here once, so a
/// forward pass never looks a name up.
public final class WeightReader {
    private let source: TensorSource
    private let available: Set<String>
    private var consumed: Set<String> = []
    /// How weight matrices (`weightMatrix`) are kept resident.
    public let residency: WeightResidency
    /// Elements of all tensors handed out so far (the network's parameters).
    public private(set) var loadedElements = 0
    /// Bytes those tensors occupy as they are kept (16-bit weight matrices count 2 bytes per value).
    public private(set) var loadedBytes = 0
    /// The bf16 copies of this network's weight matrices the bf16 path made (`BF16PackedWeight`).
    public let bf16Packs = BF16PackLedger()
    /// Whether layers narrow their bf16 copies at load (the daemon computes in bf16 by default) instead of on
    /// their first bf16 call, so the copies are in the resident bytes the model host measures at load.
    public let packBF16AtLoad: Bool
    /// The ledger of the network this one is rebuilt from (a LoRA set's): weights it shares keep that network's
    /// bf16 slots, so only the patched ones are narrowed (and counted) again.
    let sharedBF16Packs: BF16PackLedger?

    public init(_ source: TensorSource, residency: WeightResidency = .processDefault, packBF16AtLoad: Bool = false,
                sharingBF16With shared: BF16PackLedger? = nil) {
        self.source = source
        self.available = Set(source.names)
        self.residency = residency
        self.packBF16AtLoad = packBF16AtLoad
        self.sharedBF16Packs = shared
    }

    /// The bf16 slot of a weight matrix this reader handed out: the shared network's for a weight it holds too.
    public func bf16Pack(_ weight: Tensor) -> BF16PackedWeight {
        if let shared = sharedBF16Packs?.slot(for: weight) {
            if packBF16AtLoad { _ = shared.tensor }
            return shared
        }
        return BF16PackedWeight(weight, ledger: bf16Packs, packNow: packBF16AtLoad)
    }

    /// Reads `name`, which must exist with exactly `shape`, as float32.
    public func tensor(_ name: String, shape: [Int]) throws -> Tensor {
        try read(name, shape: shape) { try source.tensor(name) }
    }

    /// Reads the weight matrix of a linear or convolution layer, kept resident as `residency` says
    /// (only ops that widen weights per panel, `linear` and `conv2d`, may receive these).
    public func weightMatrix(_ name: String, shape: [Int]) throws -> Tensor {
        let policy = residency
        return try read(name, shape: shape) { try source.residentTensor(name) { policy.resident($0) } }
    }

    private func read(_ name: String, shape: [Int], _ load: () throws -> Tensor) throws -> Tensor {
        try check(name, shape: shape)
        let value: Tensor
        do {
            value = try load()
        } catch {
            throw ModelLoadError.readFailed(name: name, reason: String(describing: error))
        }
        guard value.shape == shape else {
            throw ModelLoadError.shapeMismatch(name: name, expected: shape, found: value.shape)
        }
        loadedElements += value.count
        loadedBytes += value.byteCount
        return value
    }

    /// Reads `name` when the source has it; `nil` when absent (for genuinely optional tensors only).
    public func optionalTensor(_ name: String, shape: [Int]) throws -> Tensor? {
        guard available.contains(name) else { return nil }
        return try tensor(name, shape: shape)
    }

    /// Checks that `name` exists with `shape` and marks it consumed without reading its data.
    /// Used for layers a checkpoint carries but the configured forward never runs
    /// (e.g. the 24th OpenCLIP layer behind SD2's penultimate-layer output).
    public func validate(_ name: String, shape: [Int]) throws {
        try check(name, shape: shape)
    }

    /// Marks tensors that are legitimately stored but carry no weights (e.g. CLIP's `position_ids` buffer).
    public func ignoreIfPresent(_ name: String) {
        if available.contains(name) { consumed.insert(name) }
    }

    public func contains(_ name: String) -> Bool { available.contains(name) }

    /// Fails when the source holds tensors that were never consumed.
    public func finish() throws {
        let leftover = available.subtracting(consumed)
        guard leftover.isEmpty else {
            throw ModelLoadError.unexpectedTensors(names: leftover.sorted())
        }
    }

    private func check(_ name: String, shape: [Int]) throws {
        guard available.contains(name), let found = source.shape(of: name) else {
            throw ModelLoadError.missingTensor(name: name, expectedShape: shape)
        }
        guard found == shape else {
            throw ModelLoadError.shapeMismatch(name: name, expected: shape, found: found)
        }
        consumed.insert(name)
    }
}

/// A dotted path inside a `WeightReader`, so nested layers can say `scope["conv1"].tensor("weight", ...)`.
public struct WeightScope {
    public let reader: WeightReader
    public let path: String

    public init(_ reader: WeightReader, path: String = "") {
        self.reader = reader
        self.path = path
    }

    public subscript(_ component: String) -> WeightScope {
        WeightScope(reader, path: name(component))
    }

    public subscript(_ index: Int) -> WeightScope { self[String(index)] }

    public func name(_ leaf: String) -> String { path.isEmpty ? leaf : path + "." + leaf }

    public func tensor(_ leaf: String, shape: [Int]) throws -> Tensor {
        try reader.tensor(name(leaf), shape: shape)
    }

    public func weightMatrix(_ leaf: String, shape: [Int]) throws -> Tensor {
        try reader.weightMatrix(name(leaf), shape: shape)
    }

    public func validate(_ leaf: String, shape: [Int]) throws {
        try reader.validate(name(leaf), shape: shape)
    }
}
