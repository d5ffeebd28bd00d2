import Glibc
import VipsShim

/// libpng (as libvips 8.14 uses it) allocates a chunk's declared length before reading it, with no cap: a
/// 178-byte PNG declaring a 2 GB zTXt chunk made a load allocate 2 GB (found by fuzz/targets/png.swift). So
/// before libvips sees a PNG, every chunk's declared length is checked against the bytes really there.
///
/// Compressed metadata (zTXt, compressed iTXt, iCCP) is bounded too: libvips lets libpng inflate each such chunk
/// to 50 MB, but not their sum, so an 816 KB PNG of twenty zTXt chunks took a resize to 3.3 GB and 45 s (and the
/// 800 MB of text went on into the output). Their inflated sizes are counted first, all together.
enum PNGChunkBounds {
    /// PNG's own bound on a chunk length (2³¹−1).
    static let maxChunkLength = 0x7FFF_FFFF
    /// What all compressed text and profile chunks of one PNG may inflate to together. Real metadata (A1111's and
    /// ComfyUI's parameters, XMP, ICC profiles) is kilobytes to a few megabytes.
    static let maxInflatedMetadata = 64 << 20
    /// A compressed metadata chunk larger than this is refused without inflating it (it would inflate to more).
    static let maxCompressedMetadataChunk = 16 << 20

    /// What is wrong with the chunk layout of a PNG of `size` bytes, or nil when every chunk up to IEND fits
    /// (or the data is not a PNG at all: other formats are libvips' to judge). `read` returns `count` bytes at
    /// `offset`, or nil when they cannot be read.
    static func violation(size: Int, read: (_ offset: Int, _ count: Int) -> [UInt8]?) -> String? {
        guard size >= 8, read(0, 8) == PNGTextChunk.signature else { return nil }
        var offset = 8
        var inflated = 0
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
            if Self.compressedMetadata.contains(type) {
                if length > maxCompressedMetadataChunk {
                    return "the \(type) chunk at byte \(offset) holds \(length) bytes of compressed metadata, over the limit of \(maxCompressedMetadataChunk)"
                }
                guard let payload = read(offset + 8, length), payload.count == length else { return nil }
                inflated += Self.inflatedSize(type: type, payload: payload, cap: maxInflatedMetadata - inflated)
                if inflated > maxInflatedMetadata {
                    return "its compressed metadata inflates to more than \(maxInflatedMetadata) bytes (at the \(type) chunk at byte \(offset)): a decompression bomb"
                }
            }
            offset += 12 + length
        }
        return nil
    }

    static let compressedMetadata: Set<String> = ["zTXt", "iTXt", "iCCP"]

    /// Bytes a compressed metadata chunk's payload inflates to (at most cap + 1); 0 where it holds no compressed data
    /// (an uncompressed iTXt) or its layout is broken (libpng skips such a chunk).
    static func inflatedSize(type: String, payload: [UInt8], cap: Int) -> Int {
        // zTXt and iCCP: name, NUL, method byte, zlib stream. iTXt: keyword, NUL, compression flag, method,
        // language tag, NUL, translated keyword, NUL, text (a zlib stream when the flag is 1).
        guard let nameEnd = payload.firstIndex(of: 0) else { return 0 }
        var start = nameEnd + 2
        if type == "iTXt" {
            guard payload.count > nameEnd + 2, payload[nameEnd + 1] == 1,
                  let languageEnd = payload[(nameEnd + 3)...].firstIndex(of: 0),
                  let translatedEnd = payload[(languageEnd + 1)...].firstIndex(of: 0) else { return 0 }
            start = translatedEnd + 1
        }
        guard start <= payload.count else { return 0 }
        let size = payload.withUnsafeBufferPointer { buffer in
            vshim_inflated_size(buffer.baseAddress.map { $0 + start }, payload.count - start, Int64(max(0, cap)))
        }
        return Int(size)
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
