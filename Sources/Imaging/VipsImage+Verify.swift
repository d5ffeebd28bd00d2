import VipsShim

extension VipsImage {
    /// Decodes every pixel of an encoded image top to bottom without keeping any (libvips' `avg` streams through
    /// a sequential load). A streaming job meets a damaged input only when its rows are decoded, deep inside a
    /// resize or an encode whose error is the output's; decoding the input once more tells whose fault it was.
    /// Throws `decodeFailed` for a damaged or truncated image.
    public static func verifyDecodes(data: [UInt8]) throws {
        let image = try load(data: data, mode: .sequential)
        var value = 0.0
        try withExtendedLifetime(image) {
            guard vshim_avg(image.pointer, &value) == 0 else {
                throw ImagingError.decodeFailed(source: "the input", detail: VipsErrorBuffer.take())
            }
        }
    }
}
