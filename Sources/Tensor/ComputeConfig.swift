import CBLAS
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The number of compute threads, shared by OpenBLAS and `Parallel`.
///
/// One pool owns the cores: OpenBLAS is always kept at ONE thread and `Gemm` splits large products
/// across our own pool, each slice a single-threaded `cblas_sgemm`. So a GEMM issued from inside a
/// parallel loop can never spawn extra threads, and OpenBLAS's spinning workers never compete with
/// ours for the same two cores.
public enum ComputeConfig {
    private static let lock: UnsafeMutablePointer<pthread_mutex_t> = {
        let pointer = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
        pthread_mutex_init(pointer, nil)
        return pointer
    }()
    nonisolated(unsafe) private static var currentPool: WorkerPool?

    /// Default: the number of online processors.
    public static var defaultThreads: Int {
        max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
    }

    /// The current thread count (workers + the calling thread).
    public static var threads: Int {
        get { pool.workerCount + 1 }
        set { setThreads(newValue) }
    }

    /// Resizes the pool and pins OpenBLAS to one thread. Call at start-up or between requests,
    /// never while ops are running.
    public static func setThreads(_ count: Int) {
        precondition(count >= 1, "ComputeConfig.setThreads: thread count must be >= 1, got \(count)")
        pthread_mutex_lock(lock)
        defer { pthread_mutex_unlock(lock) }
        openblas_set_num_threads(1)
        if let existing = currentPool, existing.workerCount == count - 1 { return }
        currentPool?.shutdown()
        currentPool = WorkerPool(workerCount: count - 1)
    }

    static var pool: WorkerPool {
        pthread_mutex_lock(lock)
        defer { pthread_mutex_unlock(lock) }
        if let existing = currentPool { return existing }
        openblas_set_num_threads(1)
        let created = WorkerPool(workerCount: defaultThreads - 1)
        currentPool = created
        return created
    }
}
