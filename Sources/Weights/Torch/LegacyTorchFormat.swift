/// torch.save's legacy (pre-1.6, `_use_new_zipfile_serialization=False`) layout, which 2022-era hypernetworks
/// and embeddings still use: five pickles in a row, then the raw storages.
///
///   1. the magic number 0x1950a86a20f9469cfc6c (always the same 15 bytes at protocol 2);
///   2. the protocol version, 1001;
///   3. sys_info: a dict with `little_endian` (only True is read);
///   4. the object, whose tensors reference storages by persistent id ('storage', type, key, location, numel, None);
///   5. the list of storage keys in the order their data follows;
/// then per key: the element count as a little-endian int64 and that many elements.
/// Every pickle goes through the restricted unpickler, and every storage is bounds-checked against the file.
enum LegacyTorchFormat {
    static let magic: [UInt8] = [0x80, 0x02, 0x8A, 0x0A, 0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19, 0x2E]
    static let protocolVersion = 1001

    static func isLegacy(_ bytes: UnsafeRawBufferPointer) -> Bool {
        bytes.count >= magic.count && zip(bytes.prefix(magic.count), magic).allSatisfy { $0 == $1 }
    }

    /// Runs `extract` on the object pickle; returns its result, the storage keys in data order and where the
    /// first storage starts.
    static func read<R>(_ bytes: UnsafeRawBufferPointer, path: String,
                        extract: (PickleValue) throws -> R) throws -> (result: R, keys: [String], dataStart: Int) {
        var offset = magic.count
        func next<T>(_ body: (PickleValue) throws -> T) throws -> T {
            guard offset < bytes.count else {
                throw WeightsError.invalidCheckpoint(path: path, detail: "legacy torch file ends after \(offset) bytes, before all its pickles")
            }
            var unpickler = RestrictedUnpickler(data: bytes, path: path, start: offset)
            let value = try unpickler.run(body)
            offset = unpickler.position
            return value
        }
        let version = try next { v -> Int? in if case let .int(i) = v { return i } else { return nil } }
        guard version == protocolVersion else {
            throw WeightsError.invalidCheckpoint(path: path, detail: "legacy torch protocol version \(version.map(String.init) ?? "?"), expected \(protocolVersion)")
        }
        let littleEndian = try next { v -> Bool in
            guard case let .dict(d) = v, case let .bool(little)? = d.value(forKey: "little_endian") else { return false }
            return little
        }
        guard littleEndian else {
            throw WeightsError.invalidCheckpoint(path: path, detail: "legacy torch file is not little-endian (or has no sys_info)")
        }
        let result = try next(extract)
        let keys = try next { v -> [String]? in
            guard case let .list(l) = v else { return nil }
            var keys: [String] = []
            for case let .string(k) in l.items { keys.append(k) }
            return keys.count == l.items.count ? keys : nil
        }
        guard let keys else {
            throw WeightsError.invalidCheckpoint(path: path, detail: "legacy torch storage key list is not a list of strings")
        }
        return (result, keys, offset)
    }

    /// Where each storage's bytes are: per key in order an int64 element count (which must equal the count the
    /// pickle declared), then count × the dtype's size bytes, all inside the file.
    static func storages(_ keys: [String], declared: [String: StorageRef], bytes: UnsafeRawBufferPointer, from start: Int,
                         path: String) throws -> [String: ZipEntry] {
        var offset = start
        var entries: [String: ZipEntry] = [:]
        for key in keys {
            guard entries[key] == nil else { throw WeightsError.invalidCheckpoint(path: path, detail: "storage '\(key)' listed twice") }
            guard let ref = declared[key] else {
                throw WeightsError.invalidCheckpoint(path: path, detail: "storage '\(key)' is used by no tensor")
            }
            guard bytes.count - offset >= 8 else {
                throw WeightsError.invalidCheckpoint(path: path, detail: "storage '\(key)' header past the end of the file (offset \(offset))")
            }
            var count: UInt64 = 0
            for i in (0..<8).reversed() { count = count << 8 | UInt64(bytes[offset + i]) }
            offset += 8
            guard count == UInt64(ref.count) else {
                throw WeightsError.invalidCheckpoint(path: path, detail: "storage '\(key)' holds \(count) elements, its tensors declare \(ref.count)")
            }
            let (size, overflow) = ref.count.multipliedReportingOverflow(by: ref.dtype.byteSize)
            guard !overflow, size <= bytes.count - offset else {
                throw WeightsError.invalidCheckpoint(path: path, detail: "storage '\(key)' of \(ref.count) \(ref.dtype.rawValue) elements runs past the end of the file")
            }
            entries[key] = ZipEntry(name: key, dataOffset: offset, size: size, crc32: 0)
            offset += size
        }
        return entries
    }
}
