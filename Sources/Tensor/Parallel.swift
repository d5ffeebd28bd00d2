/// The shared parallel-for used by every op. Its size is set together with OpenBLAS's thread count
/// through `ComputeConfig.setThreads(_:)`.
///
/// Parallel bodies may call `Gemm` (it detects that it runs on a worker and stays single-threaded);
/// nested `Parallel.forEach` calls run serially on the calling worker.
public enum Parallel {
    /// Calls `body(i)` for every `i` in `range`, spread over the compute threads. Returns when all
    /// calls have finished. Bodies must be independent (write disjoint memory).
    public static func forEach(_ range: Range<Int>, _ body: (Int) -> Void) {
        ComputeConfig.pool.run(range, body)
    }

    /// Splits `0..<count` into contiguous slices of at least `grain` elements (about four per
    /// thread, so a slow core does not hold everyone up) and runs `body` on each slice in parallel.
    public static func forEachSlice(count: Int, grain: Int = 4096, _ body: (Range<Int>) -> Void) {
        if count <= 0 { return }
        let threads = ComputeConfig.threads
        let maxSlices = max(1, count / max(1, grain))
        let slices = min(maxSlices, threads == 1 ? 1 : threads * 4)
        if slices == 1 {
            body(0..<count)
            return
        }
        forEach(0..<slices) { slice in
            let start = count * slice / slices
            let end = count * (slice + 1) / slices
            body(start..<end)
        }
    }
}
