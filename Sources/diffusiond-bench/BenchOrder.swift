/// How our calls and PyTorch's share the machine within one run.
enum BenchOrder {
    /// Each timed call of ours is followed by one of PyTorch's: both see the same machine state, so the
    /// ratio survives drift. Needs both models resident at once.
    case alternating
    /// All our calls, then our model is freed, then PyTorch loads and makes all its calls: for models whose
    /// two float32 copies do not fit (SDXL on 24 GB). The ratio compares two halves of the run, so machine
    /// drift between them goes into it.
    case sequential

    var description: String {
        switch self {
        case .alternating: return "alternating (ours, PyTorch, ours, …)"
        case .sequential: return "sequential (all of ours, then our model is freed, then all of PyTorch's; not alternating)"
        }
    }
}
