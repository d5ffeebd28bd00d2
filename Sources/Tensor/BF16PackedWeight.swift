#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A layer's weight as bf16 for the bf16 path, narrowed once (on the first bf16 call, or at load where the daemon
/// computes in bf16) and then kept with the model: a sampling loop calls each layer 20-50 times.
/// A weight already resident as bf16 (a bf16 checkpoint kept `stored`) is used as it is and costs nothing.
public final class BF16PackedWeight: @unchecked Sendable {
    private let source: Tensor
    private let ledger: BF16PackLedger
    private var mutex = pthread_mutex_t()
    private var packed: Tensor?

    public init(_ weight: Tensor, ledger: BF16PackLedger, packNow: Bool = false) {
        source = weight
        self.ledger = ledger
        pthread_mutex_init(&mutex, nil)
        ledger.plan(weight.elementType == .bfloat16 ? 0 : weight.count * TensorElementType.bfloat16.byteWidth)
        ledger.register(self, source: weight)
        if packNow { _ = tensor }
    }

    deinit { pthread_mutex_destroy(&mutex) }

    /// Whether this slot narrows exactly `weight` (the same storage and shape).
    func narrows(_ weight: Tensor) -> Bool { source.storage === weight.storage && source.shape == weight.shape }

    /// The weight in bf16 storage, same shape as the resident one.
    public var tensor: Tensor {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        if let packed { return packed }
        let made = bf16Weights(source)
        if made.storage !== source.storage { ledger.add(made.byteCount) }
        packed = made
        return made
    }
}

/// The bytes a network's bf16 weight copies occupy (part of its resident bytes), shared by its layers, and what
/// the copies not made yet will take (what admission control adds for a bf16 job on this network).
public final class BF16PackLedger: @unchecked Sendable {
    private var mutex = pthread_mutex_t()
    private var total = 0
    private var planned = 0
    /// The slots of this ledger by their weight's storage (weak: the layers own them), so a network rebuilt from
    /// the same tensors (a LoRA set's) can use the base's slots for the weights it did not patch.
    private var slots: [ObjectIdentifier: WeakSlot] = [:]

    private struct WeakSlot {
        weak var slot: BF16PackedWeight?
    }

    public init() { pthread_mutex_init(&mutex, nil) }

    deinit { pthread_mutex_destroy(&mutex) }

    public var bytes: Int {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return total
    }

    /// Bytes all the network's bf16 copies take once made (0 for weights resident as bf16 already).
    public var plannedBytes: Int {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return planned
    }

    /// Bytes of the bf16 copies every layer's first bf16 call will still make (0 once all are made).
    public var pendingBytes: Int {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return max(0, planned - total)
    }

    func add(_ count: Int) {
        pthread_mutex_lock(&mutex)
        total += count
        pthread_mutex_unlock(&mutex)
    }

    /// The slot narrowing `weight` if one of this ledger's layers holds it (its copy, once made, counts here).
    public func slot(for weight: Tensor) -> BF16PackedWeight? {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        guard let slot = slots[ObjectIdentifier(weight.storage)]?.slot, slot.narrows(weight) else { return nil }
        return slot
    }

    func register(_ slot: BF16PackedWeight, source: Tensor) {
        pthread_mutex_lock(&mutex)
        slots[ObjectIdentifier(source.storage)] = WeakSlot(slot: slot)
        pthread_mutex_unlock(&mutex)
    }

    func plan(_ count: Int) {
        pthread_mutex_lock(&mutex)
        planned += count
        pthread_mutex_unlock(&mutex)
    }
}
