import Glibc

/// A lazy image computed once, top to bottom, into a temporary TIFF next to the job's output and loaded back
/// sequentially. For pipelines that cannot be read as separate row bands: a resize of a sequential load asks
/// its loader again for rows above where it has already decoded (the kernel's support), which libvips refuses
/// as "out of order read". A consumer that crops successive row bands (`RGBRowReader`) reads the spooled
/// image instead. The file is deleted when this object goes away; keep it alive while the image is used.
public final class SpooledImage {
    public let image: VipsImage
    public let path: String

    /// - Parameter directory: where the temporary file goes (the output's folder keeps it on the same disk).
    public init(_ source: VipsImage, directory: String) throws {
        StaleTemporaries.sweep(directory: directory, patterns: StaleTemporaries.everyKind)
        path = "\(directory)/.diffusiond-spool.\(getpid()).\(UInt64.random(in: 0 ... .max)).tif"
        try source.write(to: path, overwrite: false)
        do {
            image = try VipsImage.load(path: path, mode: .sequential)
        } catch {
            unlink(path)
            throw error
        }
    }

    deinit { unlink(path) }
}
