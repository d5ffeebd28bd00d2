import Foundation
import Tensor

/// A resident model's patched variant for the last adapter set it was asked for, so the next request with the
/// same files (unchanged on disk) and strengths gets the same patched networks without merging again. One set
/// is kept: a different set replaces it (its patched tensors are freed when the last request using them ends).
public final class LoRAPatchCache: @unchecked Sendable {
    private let lock = NSLock()
    private var last: (key: LoRASetKey, value: LoRAPatchedModel)?

    public init() {}

    func value(for key: LoRASetKey) -> LoRAPatchedModel? {
        lock.withLock { last?.key == key ? last?.value : nil }
    }

    func store(_ value: LoRAPatchedModel, for key: LoRASetKey) {
        lock.withLock { last = (key, value) }
    }

    /// Bytes of the patched copies the kept variant holds beside the base (0 when none is kept), with their bf16
    /// copies once bf16 jobs made them: what the memory budget and `status` count for it.
    public var patchedBytes: Int {
        lock.withLock { last.map { $0.value.patchedBytes + $0.value.bf16PackBytes } ?? 0 }
    }

    /// Drops the kept variant (its memory goes when no request holds it).
    public func clear() {
        lock.withLock { last = nil }
    }
}

/// Identifies an adapter set: each file by path and stamp, with its strengths, in request order (order matters
/// for DoRA, which rescales what the adapters before it made).
struct LoRASetKey: Equatable, Sendable {
    struct Item: Equatable, Sendable {
        let path: String
        let stamp: FileStamp?
        let textEncoderWeight: Double
        let unetWeight: Double
        let dyn: Int?
    }
    let items: [Item]
}

/// A model with adapters applied: the patched model (the base itself when no adapter was asked for) and what
/// each adapter did.
public struct LoRAPatchedModel: Sendable {
    public let model: LoadedModel
    public let reports: [LoRAReport]
    /// Whether the patched networks came from the cache (no merge this time).
    public let reused: Bool
    /// Float32 bytes of the tensors copied and patched (0 for the base itself).
    public let patchedBytes: Int
    /// Where the merge's time went (nil when nothing was merged: no adapters, or reused).
    public let timings: LoRAApplyTimings?
    /// The bf16 copy ledgers of the networks rebuilt for this set (not shared with the base): they hold the copies
    /// of the patched weights; every other weight uses the base's copy.
    let bf16Ledgers: [BF16PackLedger]

    public init(model: LoadedModel, reports: [LoRAReport], reused: Bool, patchedBytes: Int = 0, timings: LoRAApplyTimings? = nil) {
        self.init(model: model, reports: reports, reused: reused, patchedBytes: patchedBytes, bf16Ledgers: [], timings: timings)
    }

    init(model: LoadedModel, reports: [LoRAReport], reused: Bool, patchedBytes: Int, bf16Ledgers: [BF16PackLedger],
         timings: LoRAApplyTimings? = nil) {
        self.model = model
        self.reports = reports
        self.reused = reused
        self.patchedBytes = patchedBytes
        self.timings = timings
        self.bf16Ledgers = bf16Ledgers
    }

    /// Bytes of the bf16 copies the rebuilt networks made so far.
    public var bf16PackBytes: Int { bf16Ledgers.reduce(0) { $0 + $1.bytes } }

    public func reused(_ flag: Bool) -> LoRAPatchedModel {
        LoRAPatchedModel(model: model, reports: reports, reused: flag, patchedBytes: patchedBytes, bf16Ledgers: bf16Ledgers)
    }
}
