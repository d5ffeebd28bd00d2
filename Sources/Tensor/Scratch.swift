#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Per-thread reusable scratch memory for kernel temporaries (im2col columns, attention scores).
/// Allocating a few MB per chunk would cost page faults on every call; each thread instead keeps
/// one 64-byte aligned buffer that only grows.
enum Scratch {
    private final class Buffer {
        var pointer: UnsafeMutablePointer<Float>?
        var capacity = 0

        func reserve(_ count: Int) -> UnsafeMutablePointer<Float> {
            if let pointer, capacity >= count { return pointer }
            free(pointer)
            var raw: UnsafeMutableRawPointer?
            let bytes = max(count, 16) * MemoryLayout<Float>.stride
            guard posix_memalign(&raw, 64, bytes) == 0, let raw else {
                fatalError("Scratch: cannot allocate \(bytes) bytes")
            }
            let typed = raw.bindMemory(to: Float.self, capacity: max(count, 16))
            pointer = typed
            capacity = count
            return typed
        }

        deinit { free(pointer) }
    }

    private static func makeKey() -> pthread_key_t {
        var key = pthread_key_t()
        // Threads that exit release their buffer.
        pthread_key_create(&key) { value in
            if let value { Unmanaged<AnyObject>.fromOpaque(value).release() }
        }
        return key
    }

    private static let key = makeKey()
    /// A second buffer for widened weight panels: a GEMM on 16-bit weights runs inside kernels that already
    /// hold `withBuffer` (im2col columns), so it cannot share theirs.
    private static let panelKey = makeKey()

    /// Calls `body` with at least `count` floats of uninitialised memory owned by this thread.
    /// Not reentrant: `body` must not call `withBuffer` again on the same thread.
    static func withBuffer<R>(count: Int, _ body: (UnsafeMutablePointer<Float>) throws -> R) rethrows -> R {
        try body(buffer(for: key).reserve(count))
    }

    /// Like `withBuffer`, for one widened weight panel (`Gemm` only; not reentrant either).
    static func withPanel<R>(count: Int, _ body: (UnsafeMutablePointer<Float>) throws -> R) rethrows -> R {
        try body(buffer(for: panelKey).reserve(count))
    }

    private static func buffer(for key: pthread_key_t) -> Buffer {
        if let existing = pthread_getspecific(key) {
            return Unmanaged<Buffer>.fromOpaque(existing).takeUnretainedValue()
        }
        let buffer = Buffer()
        pthread_setspecific(key, Unmanaged.passRetained(buffer as AnyObject).toOpaque())
        return buffer
    }
}
