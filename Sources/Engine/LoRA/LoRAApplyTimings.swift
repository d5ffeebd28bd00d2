import Foundation
import Models

/// Where a LoRA set's first use spent its time (logged at debug level and shown by `diffusiond-bench`):
/// reading the files, then the merge, split as `LoRAMergeTimings` does.
public struct LoRAApplyTimings: Sendable, Equatable, CustomStringConvertible {
    public var readSeconds: Double
    /// The whole merge: matching, copies, products, other ΔW kinds and the rebuild.
    public var mergeSeconds: Double
    public var merge: LoRAMergeTimings

    public var totalSeconds: Double { readSeconds + mergeSeconds }
    /// What the merge spent outside the copies, the products, the narrowing and the rebuild.
    public var restSeconds: Double {
        max(0, mergeSeconds - merge.copySeconds - merge.productSeconds - merge.narrowSeconds - merge.buildSeconds)
    }

    public var description: String {
        func s(_ value: Double) -> String { String(format: "%.3f s", value) }
        return "read \(s(readSeconds)), copy \(s(merge.copySeconds)), products \(s(merge.productSeconds)), "
            + "narrow \(s(merge.narrowSeconds)), rebuild \(s(merge.buildSeconds)), rest \(s(restSeconds)) (total \(s(totalSeconds)))"
    }
}
