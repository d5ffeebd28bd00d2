/// Bounds-checked little-endian reads from a byte buffer; every read either succeeds or returns nil,
/// so parsers turn truncation into precise errors instead of crashes.
struct ByteReader {
    let bytes: UnsafeRawBufferPointer

    func u8(_ at: Int) -> UInt8? {
        at >= 0 && at < bytes.count ? bytes[at] : nil
    }
    func u16(_ at: Int) -> UInt16? {
        at >= 0 && at <= bytes.count - 2 ? UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: UInt16.self)) : nil
    }
    func u32(_ at: Int) -> UInt32? {
        at >= 0 && at <= bytes.count - 4 ? UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: UInt32.self)) : nil
    }
    func u64(_ at: Int) -> UInt64? {
        at >= 0 && at <= bytes.count - 8 ? UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: UInt64.self)) : nil
    }
    /// `count` bytes at `at`, or nil if the range leaves the buffer (overflow-safe).
    func slice(_ at: Int, _ count: Int) -> UnsafeRawBufferPointer? {
        guard at >= 0, count >= 0, at <= bytes.count, count <= bytes.count - at else { return nil }
        return UnsafeRawBufferPointer(rebasing: bytes[at..<(at + count)])
    }
}

/// CRC-32 (IEEE, as zip uses) to check small entries such as the pickle.
enum CRC32 {
    private static let table: [UInt32] = (0..<256).map { i -> UInt32 in
        var c = UInt32(i)
        for _ in 0..<8 { c = (c & 1) != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    static func checksum(_ data: UnsafeRawBufferPointer) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for b in data { c = table[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
        return c ^ 0xFFFF_FFFF
    }
}
