import Foundation
import VipsShim

// The Imaging module: libvips behind safe, owning Swift types. Conventions every caller can rely on:
//
// - Input: `VipsImage.load(path:|data:)` reads regular files only, checks the header against `ImageLimits` before
//   decoding, accepts PNG/JPEG/WebP/TIFF/GIF only, and fails on truncated data (never a grey-filled image).
//   Decoded loads are turned upright by their EXIF orientation.
// - Output: `write(to:overwrite:)` is atomic (temp file in the folder, fsync, rename, folder fsync) and keeps the
//   ICC profile and PNG text (`parameters`); `encoded(format:)` gives bytes.
// - Tensors: `toTensor()` / `VipsImage(tensor:)` are [1,3,H,W] in [-1, 1], bit-identical to diffusers'
//   VaeImageProcessor pre/postprocess for 8-bit images (fixtures in Tests/Fixtures/imaging).
// - Masks: one float band in [0, 1]; 1 (white / transparent with `Mask(alphaOf:)`) = repaint, 0 = keep.
//   `MaskOptions` applies resize-to-image, invert, threshold, grow, feather in that order.
// - Pixels outside a mask stay bit-identical: `pasting(_:through:)`, `filled(through:method:)` and
//   `extended(by:fill:)` select those pixels from the input rather than recomputing them.
// - Tiling: `TileGrid` (geometry + partition-of-unity weights), `TileAssembler` (order-independent blending into
//   final regions; full-width float rows only where grid rows overlap), `RowBandReader` / `RGBRowReader` (tile
//   inputs / planar RGB rows from a sequential load), `TiledOutputWriter` (regions into a temporary raw file,
//   then an atomic encode): memory follows the width and the tile size, not the image.

/// Process-wide libvips set-up. Call `initialize(threads:)` once at start-up with the compute pool's thread
/// count; any image function called earlier initialises with the number of cores.
public enum Imaging {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var initializedThreads: Int?

    /// Starts libvips once. `threads` sizes vips' worker pool: the same count as the tensor pool so the two
    /// don't oversubscribe the cores. libvips' operation cache is switched off: a daemon sees each image once, and
    /// cached operations would pin their input images (and memory) between requests.
    /// Later calls only change the concurrency.
    public static func initialize(threads: Int) throws {
        lock.lock()
        defer { lock.unlock() }
        let count = max(1, threads)
        if initializedThreads == nil {
            if vshim_init("diffusiond") != 0 {
                throw ImagingError.operationFailed(operation: "vips_init", detail: VipsErrorBuffer.take())
            }
        }
        vshim_configure(Int32(count), 0, 0, 0)
        initializedThreads = count
    }

    /// The thread count vips was configured with, nil before initialisation.
    public static var threads: Int? {
        lock.lock()
        defer { lock.unlock() }
        return initializedThreads
    }

    /// Bytes libvips currently holds for pixel buffers, and the most it has held (for `status` reports).
    public static var trackedMemory: (current: Int, peak: Int) {
        (Int(vips_tracked_get_mem()), Int(vips_tracked_get_mem_highwater()))
    }

    static func ensureInitialized() throws {
        if threads == nil {
            try initialize(threads: ProcessInfo.processInfo.activeProcessorCount)
        }
    }
}

/// libvips keeps one process-global error buffer; the shim copies and clears it under a lock right after
/// the failing call so one request's message never leaks into another's.
enum VipsErrorBuffer {
    static func take(orElse fallback: String = "unknown libvips error") -> String {
        guard let raw = vshim_error_take() else { return fallback }
        defer { g_free(raw) }
        let text = String(cString: raw).trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? fallback : text.replacingOccurrences(of: "\n", with: "; ")
    }
}
