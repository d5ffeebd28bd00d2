import Glibc

/// libpng (as libvips 8.14 uses it) allocates a chunk's declared length before reading it, with no cap: a
/// 178-byte PNG declaring a 2 GB zTXt chunk made a load allocate 2 GB (found by fuzz/targets/png.swift). So
/// before libvips sees a PNG, every chunk's declared length is checked against the bytes really there, and
/// what its compressed text inflates to against `PNGTextInflation.maxInflatedTextBytes`.
enum PNGChunkBounds {
    /// PNG's own bound on a chunk length (2³¹−1).
    static let maxChunkLength = 0x7FFF_FFFF

    /// What is wrong with the chunk layout of a PNG of `size` bytes, or nil when every chunk up to IEND fits
    /// (or the data is not a PNG at all: other formats are libvips' to judge). `read` returns `count` bytes at
    /// `offset`, or nil when they cannot be read.
    static func violation(size: Int, read: (_ offset: Int, _ count: Int) -> [UInt8]?) -> String? {
        guard size >= 8, read(0, 8) == PNGTextChunk.signature else { return nil }
        var offset = 8
        var text = PNGTextInflation()
        while offset + 8 <= size {
            guard let header = read(offset, 8), header.count == 8 else { return nil }
            let length = header[0..<4].reduce(0) { $0 << 8 | Int($1) }
            let type = header[4..<8].allSatisfy { (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0) }
                ? String(decoding: header[4..<8], as: UTF8.self) : "invalid"
            if length > maxChunkLength {
                return "the \(type) chunk at byte \(offset) declares \(length) bytes, over PNG's limit of \(maxChunkLength)"
            }
            let available = size - offset - 12
            if length > available {
                return "the \(type) chunk at byte \(offset) declares \(length) bytes but the data has \(max(0, available)) left"
            }
            if type == "IEND" { return nil }
            text.add(type: type, offset: offset + 8, length: length, read: read)
            if text.totalBytes > PNGTextInflation.maxInflatedTextBytes {
                return "the compressed text chunks up to the \(type) chunk at byte \(offset) inflate to more than "
                    + "\(PNGTextInflation.maxInflatedTextBytes) bytes, the daemon's limit on a PNG's text (zTXt/iTXt)"
            }
            offset += 12 + length
        }
        return nil
    }

    static func violation(in data: [UInt8]) -> String? {
        violation(size: data.count) { offset, count in Array(data[offset..<min(data.count, offset + count)]) }
    }

    /// Reads through `fd` with pread, so the descriptor's offset (which libvips reads from) stays where it is.
    static func violation(descriptor fd: Int32, size: Int) -> String? {
        violation(size: size) { offset, count in
            var bytes = [UInt8](repeating: 0, count: count)
            let got = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress, count, off_t(offset)) }
            return got == count ? bytes : nil
        }
    }
}
