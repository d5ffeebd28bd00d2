/// One member of a zip archive: where its (stored, uncompressed) bytes lie in the file.
struct ZipEntry: Equatable {
    let name: String
    let dataOffset: Int
    let size: Int
    let crc32: UInt32
}

/// A minimal zip reader for PyTorch checkpoints over a memory-mapped file: end of central directory
/// (with ZIP64 records, since SD checkpoints exceed 4 GB), central directory and local headers, stored
/// entries only (torch.save never compresses). Every offset is checked against the file before use.
struct ZipArchive {
    static let maxEntries = 1_000_000

    let path: String
    let entries: [String: ZipEntry]

    init(bytes: UnsafeRawBufferPointer, path: String) throws {
        self.path = path
        let r = ByteReader(bytes: bytes)
        func bad(_ offset: Int, _ detail: String) -> WeightsError { .invalidZip(path: path, offset: offset, detail: detail) }

        // End of central directory: 22 bytes + a comment of at most 65535 bytes, searched from the end.
        guard bytes.count >= 22 else { throw bad(0, "file of \(bytes.count) bytes is too small for a zip archive") }
        var eocd = -1
        var p = bytes.count - 22
        let lowest = max(0, bytes.count - 22 - 65535)
        while p >= lowest {
            if r.u32(p) == 0x0605_4B50, let commentLength = r.u16(p + 20), p + 22 + Int(commentLength) == bytes.count {
                eocd = p
                break
            }
            p -= 1
        }
        guard eocd >= 0 else { throw bad(bytes.count, "no end-of-central-directory record (truncated or not a zip)") }

        var count = Int(r.u16(eocd + 10) ?? 0)
        var cdSize = Int(r.u32(eocd + 12) ?? 0)
        var cdOffset = Int(r.u32(eocd + 16) ?? 0)
        // ZIP64: a locator just before the EOCD points at the ZIP64 end record with 64-bit fields.
        if eocd >= 20, r.u32(eocd - 20) == 0x0706_4B50 {
            guard let z64 = r.u64(eocd - 12), z64 <= UInt64(eocd - 20) else { throw bad(eocd - 20, "ZIP64 locator points outside the file") }
            let z = Int(z64)
            guard r.u32(z) == 0x0606_4B50, let n = r.u64(z + 32), let size = r.u64(z + 40), let offset = r.u64(z + 48) else {
                throw bad(z, "missing or truncated ZIP64 end-of-central-directory record")
            }
            guard n <= UInt64(Self.maxEntries), size <= UInt64(bytes.count), offset <= UInt64(bytes.count) else {
                throw bad(z, "ZIP64 end record has impossible values (\(n) entries, size \(size), offset \(offset))")
            }
            count = Int(n); cdSize = Int(size); cdOffset = Int(offset)
        }
        guard count <= Self.maxEntries else { throw bad(eocd, "\(count) entries exceed the limit of \(Self.maxEntries)") }
        guard r.slice(cdOffset, cdSize) != nil, cdOffset + cdSize <= eocd else {
            throw bad(eocd, "central directory [\(cdOffset), \(cdOffset + cdSize)) lies outside the archive")
        }

        var entries: [String: ZipEntry] = [:]
        var at = cdOffset
        for _ in 0..<count {
            guard r.u32(at) == 0x0201_4B50, let flags = r.u16(at + 8), let method = r.u16(at + 10),
                  let crc = r.u32(at + 16), let csize32 = r.u32(at + 20), let usize32 = r.u32(at + 24),
                  let nameLength = r.u16(at + 28), let extraLength = r.u16(at + 30), let commentLength = r.u16(at + 32),
                  let local32 = r.u32(at + 42), let nameBytes = r.slice(at + 46, Int(nameLength)),
                  let extra = r.slice(at + 46 + Int(nameLength), Int(extraLength)),
                  at + 46 + Int(nameLength) + Int(extraLength) + Int(commentLength) <= cdOffset + cdSize else {
                throw bad(at, "bad or truncated central directory header")
            }
            guard let name = String(validating: nameBytes, as: UTF8.self) else { throw bad(at, "entry name is not UTF-8") }
            guard flags & 1 == 0 else { throw bad(at, "entry '\(name)' is encrypted") }
            var usize = UInt64(usize32), csize = UInt64(csize32), local = UInt64(local32)
            // ZIP64 extended information: only the fields whose 32-bit value is saturated, in this order.
            var e = 0
            while e + 4 <= extra.count {
                let er = ByteReader(bytes: extra)
                guard let id = er.u16(e), let len = er.u16(e + 2), e + 4 + Int(len) <= extra.count else { break }
                if id == 0x0001 {
                    var f = e + 4
                    func next() throws -> UInt64 {
                        guard f + 8 <= e + 4 + Int(len), let v = er.u64(f) else { throw bad(at, "entry '\(name)': short ZIP64 extra field") }
                        f += 8
                        return v
                    }
                    if usize32 == 0xFFFF_FFFF { usize = try next() }
                    if csize32 == 0xFFFF_FFFF { csize = try next() }
                    if local32 == 0xFFFF_FFFF { local = try next() }
                }
                e += 4 + Int(len)
            }
            guard method == 0 else { throw WeightsError.compressedZipEntry(path: path, entry: name, method: Int(method)) }
            guard usize == csize else { throw bad(at, "stored entry '\(name)' has compressed size \(csize) != size \(usize)") }
            guard local < UInt64(cdOffset), usize <= UInt64(bytes.count) else {
                throw bad(at, "entry '\(name)' points outside the archive")
            }
            let l = Int(local)
            guard r.u32(l) == 0x0403_4B50, let ln = r.u16(l + 26), let le = r.u16(l + 28) else {
                throw bad(l, "bad local header for entry '\(name)'")
            }
            let dataOffset = l + 30 + Int(ln) + Int(le)
            guard r.slice(dataOffset, Int(usize)) != nil, dataOffset + Int(usize) <= cdOffset else {
                throw bad(dataOffset, "data of entry '\(name)' (\(usize) bytes) runs past the archive contents")
            }
            guard entries[name] == nil else { throw bad(at, "duplicate entry '\(name)'") }
            entries[name] = ZipEntry(name: name, dataOffset: dataOffset, size: Int(usize), crc32: crc)
            at += 46 + Int(nameLength) + Int(extraLength) + Int(commentLength)
        }
        self.entries = entries
    }

    /// The stored bytes of `name`; `verify` checks the CRC (cheap for small entries like the pickle).
    func data(_ name: String, in bytes: UnsafeRawBufferPointer, verify: Bool = false) throws -> UnsafeRawBufferPointer {
        guard let e = entries[name] else { throw WeightsError.missingZipEntry(path: path, entry: name) }
        let d = UnsafeRawBufferPointer(rebasing: bytes[e.dataOffset..<(e.dataOffset + e.size)])
        if verify, CRC32.checksum(d) != e.crc32 {
            throw WeightsError.invalidZip(path: path, offset: e.dataOffset, detail: "CRC mismatch in entry '\(name)'")
        }
        return d
    }
}
