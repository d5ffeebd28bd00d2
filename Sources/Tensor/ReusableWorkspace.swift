#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One grow-only buffer for a kernel's large per-call temporaries (Winograd's transformed weights:
/// up to ~200 MB, a different size in nearly every layer; whole widened weights). Fresh allocations of that size are mmaps
/// that the kernel page-faults and zeroes on every call, which cost a tenth of a 256² UNet step; the
/// exact-size `TensorBufferCache` rarely matches them. Released by `TensorBufferCache.purge()` with the
/// other cached buffers, so an idle daemon holds only its weights.
final class ReusableWorkspace: @unchecked Sendable {
    private var mutex = pthread_mutex_t()
    private var pointer: UnsafeMutableRawPointer?
    private var capacity = 0

    static let winograd = ReusableWorkspace()
    /// A 16-bit weight widened whole for a GEMM split across threads (`Gemm.multiply`; up to ~50 MB for SDXL).
    static let widenedWeights = ReusableWorkspace()
    static let all = [winograd, widenedWeights]

    private init() { pthread_mutex_init(&mutex, nil) }

    /// Calls `body` with at least `count` floats of uninitialised, 64-byte aligned memory. A second
    /// caller while the buffer is in use (two models running at once) gets a private allocation instead.
    func withBuffer<R>(count: Int, _ body: (UnsafeMutablePointer<Float>) throws -> R) rethrows -> R {
        let bytes = max(64, count * MemoryLayout<Float>.stride)
        guard pthread_mutex_trylock(&mutex) == 0 else {
            let storage = TensorStorage(uninitializedCount: count)
            return try withExtendedLifetime(storage) { try body(storage.pointer) }
        }
        defer { pthread_mutex_unlock(&mutex) }
        if capacity < bytes {
            free(pointer)
            pointer = nil
            capacity = 0
            var fresh: UnsafeMutableRawPointer?
            guard posix_memalign(&fresh, 64, bytes) == 0, let fresh else {
                fatalError("ReusableWorkspace: cannot allocate \(bytes) bytes")
            }
            pointer = fresh
            capacity = bytes
        }
        // capacity >= bytes > 0 here, so pointer is set.
        return try body(pointer!.bindMemory(to: Float.self, capacity: count))
    }

    /// Frees the buffer unless it is in use (then it stays until the next release).
    func release() {
        guard pthread_mutex_trylock(&mutex) == 0 else { return }
        free(pointer)
        pointer = nil
        capacity = 0
        pthread_mutex_unlock(&mutex)
    }
}
