import DiffusionProtocol
import PluginAPI
import StrictJSON

/// The admission decision for one job's `MemoryEstimate`: it must fit the budget (its models' weights plus its
/// peak; other resident models can be evicted) and what the machine has available (what it still has to load
/// plus its peak). Refusing up front beats swapping, or being killed, in the middle of a long job.
struct MemoryAdmission {
    let budgetBytes: Int?
    /// MemAvailable plus what the running job holds now and frees before this one starts; nil if unknown.
    let availableBytes: Int?

    func refusal(for estimate: MemoryEstimate) -> RPCError? {
        let overBudget = budgetBytes.map { estimate.totalBytes > $0 } ?? false
        let overMachine = availableBytes.map { estimate.additionalBytes > $0 } ?? false
        guard overBudget || overMachine else { return nil }
        let limit = overBudget
            ? "the memory budget (--memory-budget \(budgetBytes ?? 0) bytes, resident weights plus the running job)"
            : "the memory available on this machine (\(availableBytes ?? 0) bytes)"
        let needed = overBudget ? estimate.totalBytes : estimate.additionalBytes
        return RPCError(code: RPCErrorCode.outOfMemoryBudget,
                        message: "out of memory budget: the job would need about \(needed) bytes, over \(limit); ask for a smaller size, batch_size or tile"
                            + (overBudget ? ", or start the daemon with a higher --memory-budget" : ", or free memory"),
                        data: ["estimated_bytes": JSONValue(needed),
                               "budget_bytes": budgetBytes.map { JSONValue($0) } ?? .null,
                               "available_bytes": availableBytes.map { JSONValue($0) } ?? .null])
    }
}
