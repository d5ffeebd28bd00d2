import Models

/// A resident model whose networks keep bf16 copies of their weights once a bf16 job ran on them
/// (`BF16PackedWeight`): the model host counts the copies made after the load in its resident bytes, the budget
/// and `status`.
protocol HoldsBF16Copies {
    /// Bytes of the bf16 copies made so far.
    var bf16PackBytes: Int { get }
}

extension LoadedModel: HoldsBF16Copies {}

extension LoadedControlNet: HoldsBF16Copies {
    var bf16PackBytes: Int { network.bf16PackBytes }
}

extension T2IAdapter: HoldsBF16Copies {}
