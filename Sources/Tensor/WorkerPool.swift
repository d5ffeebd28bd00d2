#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A fixed set of worker threads that, together with the calling thread, run the indices of a range.
///
/// Indices are handed out one at a time under a mutex (dynamic scheduling): the two cores of the
/// target machine are shared with other processes, so static partitions would leave one side idle.
/// Callers choose the granularity by how they map indices to work.
final class WorkerPool: @unchecked Sendable {
    let workerCount: Int
    private var mutex = pthread_mutex_t()
    private var workAvailable = pthread_cond_t()
    private var workDone = pthread_cond_t()
    private var threads: [pthread_t] = []

    // Job state, guarded by `mutex`.
    private var body: ((Int) -> Void)?
    private var nextIndex = 0
    private var endIndex = 0
    private var inFlight = 0
    private var generation = 0
    private var shuttingDown = false
    private var busy = false

    /// Marks pool worker threads so nested parallel loops run serially instead of deadlocking.
    private static let workerKey: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key, nil)
        return key
    }()

    static var isWorkerThread: Bool { pthread_getspecific(workerKey) != nil }

    init(workerCount: Int) {
        self.workerCount = max(0, workerCount)
        pthread_mutex_init(&mutex, nil)
        pthread_cond_init(&workAvailable, nil)
        pthread_cond_init(&workDone, nil)
        for _ in 0..<self.workerCount {
            let box = Unmanaged.passRetained(self)
            var thread = pthread_t()
            let status = pthread_create(&thread, nil, { argument in
                guard let argument else { return nil }
                let pool = Unmanaged<WorkerPool>.fromOpaque(argument).takeRetainedValue()
                pool.workerLoop()
                return nil
            }, box.toOpaque())
            if status == 0 {
                threads.append(thread)
            } else {
                box.release()
            }
        }
    }

    /// Stops and joins the workers. Must not race with `run`.
    func shutdown() {
        pthread_mutex_lock(&mutex)
        shuttingDown = true
        pthread_cond_broadcast(&workAvailable)
        pthread_mutex_unlock(&mutex)
        for thread in threads { pthread_join(thread, nil) }
        threads.removeAll()
    }

    private func workerLoop() {
        pthread_setspecific(WorkerPool.workerKey, UnsafeRawPointer(bitPattern: 1))
        var seenGeneration = 0
        pthread_mutex_lock(&mutex)
        while true {
            while generation == seenGeneration && !shuttingDown {
                pthread_cond_wait(&workAvailable, &mutex)
            }
            if shuttingDown { break }
            seenGeneration = generation
            drainLocked()
        }
        pthread_mutex_unlock(&mutex)
    }

    /// Runs indices until none are left. Called and returns with `mutex` held.
    private func drainLocked() {
        guard let job = body else { return }
        inFlight += 1
        while nextIndex < endIndex {
            let index = nextIndex
            nextIndex += 1
            pthread_mutex_unlock(&mutex)
            job(index)
            pthread_mutex_lock(&mutex)
        }
        inFlight -= 1
        if inFlight == 0 { pthread_cond_broadcast(&workDone) }
    }

    /// Runs `body(i)` for every i in `range`, on the workers and the calling thread. Falls back to a
    /// serial loop when called from a worker (nested) or while another thread is using the pool.
    func run(_ range: Range<Int>, _ body: (Int) -> Void) {
        if range.isEmpty { return }
        if workerCount == 0 || range.count == 1 || WorkerPool.isWorkerThread {
            for index in range { body(index) }
            return
        }
        pthread_mutex_lock(&mutex)
        if busy {
            pthread_mutex_unlock(&mutex)
            for index in range { body(index) }
            return
        }
        busy = true
        withoutActuallyEscaping(body) { escapable in
            self.body = escapable
            nextIndex = range.lowerBound
            endIndex = range.upperBound
            generation &+= 1
            pthread_cond_broadcast(&workAvailable)
            drainLocked()
            // The closure must not outlive this call: wait for workers still inside it.
            while inFlight > 0 { pthread_cond_wait(&workDone, &mutex) }
            self.body = nil
        }
        busy = false
        pthread_mutex_unlock(&mutex)
    }
}
