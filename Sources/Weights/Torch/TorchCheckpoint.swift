import Tensor

/// A PyTorch checkpoint (.ckpt/.pt/.pth) in torch.save's zip format or its legacy (pre-1.6) format
/// (`LegacyTorchFormat`), read through the restricted unpickler: nothing in the file is executed, and any
/// global outside the allow-list is refused.
///
/// Which tensors are exposed: the pickle's top level must be a dict. The first of these keys whose
/// value is a dict is used as the state dict: "state_dict" (Lightning/LDM .ckpt), then "params_ema",
/// then "params" (Real-ESRGAN/BasicSR .pth); otherwise the top level itself. Nested dicts inside it
/// are flattened with dotted names ("a": {"b": t} -> "a.b"), and with `Options.flattenLists` lists too
/// ("a": [{"b": t}] -> "a.0.b", for A1111 hypernetworks); other values (step counters, hyper-parameters)
/// are skipped. Top-level numbers (e.g. `global_step`) are available in `scalars`, top-level plain values
/// (strings, bools, numbers, lists of numbers) in `metadata`.
///
/// All tensor records are validated when the checkpoint is opened (storage present, view within the
/// storage, no overflow), so `tensor(_:)` only fails for dtypes that cannot become float32.
public struct TorchCheckpoint: TensorSource, @unchecked Sendable {
    public static let stateDictKeys = ["state_dict", "params_ema", "params"]
    /// data.pkl of a real SD checkpoint is ~100 KB; anything far larger is not a state dict.
    public static let maxPickleSize = 256 << 20
    /// Largest tensor allowed to have more elements than its storage (an expanded view).
    public static let maxBroadcastElements = 1 << 24

    public let path: String
    public let names: [String]
    /// The key of the dict used as the state dict, or nil for the top level.
    public let stateDictKey: String?
    /// Numeric top-level values (ints, floats, numpy scalars such as `global_step`).
    public let scalars: [String: Double]
    /// Plain top-level values by key (see `TorchMetadata`).
    public let metadata: [String: TorchMetadata]

    public struct Options: Sendable, Equatable {
        /// Also descend into lists, naming items by index (off: SD checkpoints' lists are never weights).
        public var flattenLists = false
        public init(flattenLists: Bool = false) { self.flattenLists = flattenLists }
    }

    private let file: MappedFile
    private let records: [String: TensorRecord]
    private let storages: [String: ZipEntry]

    public init(path: String, options: Options = Options()) throws {
        let file = try MappedFile(path: path)
        let bytes = file.bytes
        if LegacyTorchFormat.isLegacy(bytes) {
            let (parsed, keys, dataStart) = try LegacyTorchFormat.read(bytes, path: path) { root in
                try Self.extract(root, path: path, options: options)
            }
            var declared: [String: StorageRef] = [:]
            for r in parsed.records.values {
                if let seen = declared[r.storage.key], seen != r.storage {
                    throw WeightsError.invalidCheckpoint(path: path, detail: "storage '\(r.storage.key)' declared with two types or sizes")
                }
                declared[r.storage.key] = r.storage
            }
            let storages = try LegacyTorchFormat.storages(keys, declared: declared, bytes: bytes, from: dataStart, path: path)
            try self.init(path: path, file: file, parsed: parsed, storages: storages)
            return
        }
        // Any other bare pickle (starting with PROTO) is not a torch.save file; zip files start with "PK".
        if bytes.count >= 2, bytes[0] == 0x80, bytes[1] <= 5 { throw WeightsError.legacyTorchFormat(path: path) }
        guard bytes.count >= 4, bytes[0] == 0x50, bytes[1] == 0x4B else {
            throw WeightsError.invalidZip(path: path, offset: 0, detail: "not a zip archive (torch.save zip format expected)")
        }
        let zip = try ZipArchive(bytes: bytes, path: path)

        let pickles = zip.entries.keys.filter { name in
            guard name.hasSuffix("/data.pkl") else { return false }
            return !name.dropLast("/data.pkl".count).contains("/")
        }
        guard pickles.count <= 1 else {
            throw WeightsError.invalidZip(path: path, offset: 0, detail: "several data.pkl entries: \(pickles.sorted())")
        }
        guard let pickleName = pickles.first else {
            throw WeightsError.missingZipEntry(path: path, entry: "<archive>/data.pkl")
        }
        let prefix = String(pickleName.dropLast("data.pkl".count))
        if zip.entries[prefix + "byteorder"] != nil {
            let order = String(decoding: try zip.data(prefix + "byteorder", in: bytes), as: UTF8.self)
            guard order == "little" else {
                throw WeightsError.invalidCheckpoint(path: path, detail: "byteorder '\(order)' is not supported (only little-endian)")
            }
        }
        let pickle = try zip.data(pickleName, in: bytes, verify: true)
        guard pickle.count <= Self.maxPickleSize else {
            throw WeightsError.pickleLimitExceeded(path: path, offset: 0, limit: "data.pkl of \(pickle.count) bytes exceeds \(Self.maxPickleSize)")
        }

        var unpickler = RestrictedUnpickler(data: pickle, path: path)
        let parsed = try unpickler.run { root in try Self.extract(root, path: path, options: options) }

        var storages: [String: ZipEntry] = [:]
        for r in parsed.records.values {
            let entryName = prefix + "data/" + r.storage.key
            guard let entry = zip.entries[entryName] else { throw WeightsError.missingZipEntry(path: path, entry: entryName) }
            storages[r.storage.key] = entry
        }
        try self.init(path: path, file: file, parsed: parsed, storages: storages)
    }

    /// Validates every record against its storage's bytes.
    private init(path: String, file: MappedFile, parsed: Parsed, storages: [String: ZipEntry]) throws {
        for (name, r) in parsed.records {
            guard let entry = storages[r.storage.key] else { throw WeightsError.missingZipEntry(path: path, entry: "data/" + r.storage.key) }
            try Self.validate(r, name: name, storageBytes: entry.size, path: path)
        }
        self.path = path
        self.file = file
        self.stateDictKey = parsed.key
        self.scalars = parsed.scalars
        self.metadata = parsed.metadata
        self.records = parsed.records
        self.storages = storages
        self.names = parsed.records.keys.sorted()
    }

    public func shape(of name: String) -> [Int]? { records[name]?.shape }

    public func dtype(of name: String) -> DType? { records[name]?.storage.dtype }

    public func tensor(_ name: String) throws -> Tensor {
        guard let r = records[name], let entry = storages[r.storage.key] else {
            throw WeightsError.tensorNotFound(path: path, tensor: name)
        }
        let dtype = r.storage.dtype
        guard dtype.convertibleToFloat32 else {
            throw WeightsError.unsupportedDType(path: path, tensor: name, dtype: dtype.rawValue)
        }
        let count = r.shape.reduce(1, *)  // validated
        guard count > 0, let storageBase = file.bytes.baseAddress?.advanced(by: entry.dataOffset) else {
            return Tensor(shape: r.shape, repeating: 0)
        }
        let start = storageBase.advanced(by: r.offset * dtype.byteSize)
        if Self.isContiguous(shape: r.shape, stride: r.stride) {
            #if _endian(little)
            if dtype == .f32, Int(bitPattern: start) % MemoryLayout<Float>.alignment == 0 {
                let storage = TensorStorage(borrowing: start.assumingMemoryBound(to: Float.self), count: count, owner: file)
                return Tensor(shape: r.shape, storage: storage)
            }
            #endif
            if let t = TensorMaterialisation.convert(start, dtype: dtype, count: count, shape: r.shape) { return t }
            throw WeightsError.unsupportedDType(path: path, tensor: name, dtype: dtype.rawValue)
        }
        return try gather(start, record: r, count: count, name: name)
    }

    // MARK: decoding the pickle

    struct Parsed {
        let key: String?
        let records: [String: TensorRecord]
        let scalars: [String: Double]
        let metadata: [String: TorchMetadata]
    }

    static func extract(_ root: PickleValue, path: String, options: Options = Options()) throws -> Parsed {
        guard case let .dict(top) = root else {
            throw WeightsError.invalidCheckpoint(path: path, detail: "top level of the pickle is a \(root.typeName), not a dict")
        }
        var scalars: [String: Double] = [:]
        var metadata: [String: TorchMetadata] = [:]
        for (k, v) in top.entries {
            guard case let .string(key) = k else { continue }
            switch v {
            case let .int(i): scalars[key] = Double(i)
            case let .float(f): scalars[key] = f
            case let .numpyScalar(value?): scalars[key] = value
            default: break
            }
            if let plain = TorchMetadata(v) { metadata[key] = plain }
        }
        var chosen = top
        var chosenKey: String?
        for key in stateDictKeys {
            if case let .dict(d)? = top.value(forKey: key) {
                chosen = d
                chosenKey = key
                break
            }
        }
        var records: [String: TensorRecord] = [:]
        var visiting = Set<ObjectIdentifier>()
        try flatten(chosen.entries, container: ObjectIdentifier(chosen), prefix: "", depth: 0, into: &records,
                    visiting: &visiting, path: path, options: options)
        return Parsed(key: chosenKey, records: records, scalars: scalars, metadata: metadata)
    }

    private static func flatten(_ entries: [(key: PickleValue, value: PickleValue)], container: ObjectIdentifier, prefix: String,
                                depth: Int, into records: inout [String: TensorRecord],
                                visiting: inout Set<ObjectIdentifier>, path: String, options: Options) throws {
        guard depth < 32 else { throw WeightsError.invalidCheckpoint(path: path, detail: "dicts nested deeper than 32 under '\(prefix)'") }
        guard visiting.insert(container).inserted else {
            throw WeightsError.invalidCheckpoint(path: path, detail: "dict under '\(prefix)' contains itself")
        }
        defer { visiting.remove(container) }
        for (k, v) in entries {
            let key: String
            switch k {
            case let .string(s): key = s
            case let .int(i): key = String(i)
            default: continue
            }
            let name = prefix + key
            switch v {
            case let .tensor(r):
                guard records[name] == nil else { throw WeightsError.invalidCheckpoint(path: path, detail: "tensor name '\(name)' appears twice") }
                records[name] = r
            case let .dict(d):
                try flatten(d.entries, container: ObjectIdentifier(d), prefix: name + ".", depth: depth + 1, into: &records,
                            visiting: &visiting, path: path, options: options)
            case let .list(l) where options.flattenLists:
                let items = l.items.enumerated().map { (key: PickleValue.int($0.offset), value: $0.element) }
                try flatten(items, container: ObjectIdentifier(l), prefix: name + ".", depth: depth + 1, into: &records,
                            visiting: &visiting, path: path, options: options)
            default:
                continue
            }
        }
    }

    /// The view must lie inside its storage and the storage inside its zip entry, without overflow.
    private static func validate(_ r: TensorRecord, name: String, storageBytes: Int, path: String) throws {
        func bad(_ d: String) -> WeightsError { .invalidTensorRecord(path: path, tensor: name, detail: d) }
        let (needed, o1) = r.storage.count.multipliedReportingOverflow(by: r.storage.dtype.byteSize)
        guard !o1, needed <= storageBytes else {
            throw bad("storage '\(r.storage.key)' declares \(r.storage.count) \(r.storage.dtype.rawValue) elements but its entry has \(storageBytes) bytes")
        }
        guard r.offset >= 0, r.shape.allSatisfy({ $0 >= 0 }), r.stride.allSatisfy({ $0 >= 0 }) else {
            throw bad("negative offset, size or stride (offset \(r.offset), size \(r.shape), stride \(r.stride))")
        }
        guard let count = TensorMaterialisation.elementCount(r.shape) else { throw bad("size \(r.shape) overflows") }
        // Views larger than their storage (stride-0 broadcasts) would let a tiny file demand any
        // amount of memory; allow them only up to a modest size.
        guard count <= max(r.storage.count, Self.maxBroadcastElements) else {
            throw bad("view of \(count) elements over a \(r.storage.count)-element storage exceeds the \(Self.maxBroadcastElements)-element limit for broadcast views")
        }
        if count == 0 { return }
        var last = r.offset
        for (n, s) in zip(r.shape, r.stride) {
            let (span, o2) = (n - 1).multipliedReportingOverflow(by: s)
            let (sum, o3) = last.addingReportingOverflow(span)
            guard !o2, !o3 else { throw bad("size \(r.shape) with stride \(r.stride) overflows") }
            last = sum
        }
        guard last < r.storage.count else {
            throw bad("view (offset \(r.offset), size \(r.shape), stride \(r.stride)) reaches element \(last) of a \(r.storage.count)-element storage")
        }
    }

    static func isContiguous(shape: [Int], stride: [Int]) -> Bool {
        var expected = 1
        for (n, s) in zip(shape, stride).reversed() {
            if n != 1, s != expected { return false }
            expected *= n
        }
        return true
    }

    /// Materialises a strided view (transposes, slices, expands) into a contiguous float32 tensor.
    private func gather(_ start: UnsafeRawPointer, record r: TensorRecord, count: Int, name: String) throws -> Tensor {
        let dtype = r.storage.dtype
        let size = dtype.byteSize
        let storage = TensorStorage(uninitializedCount: count)
        let out = storage.pointer
        let rank = r.shape.count
        var index = [Int](repeating: 0, count: rank)
        var offset = 0  // element offset from `start` of the current index
        for i in 0..<count {
            let p = start.advanced(by: offset * size)
            switch dtype {
            case .f32: out[i] = Float(bitPattern: UInt32(littleEndian: p.loadUnaligned(as: UInt32.self)))
            case .f16: out[i] = HalfConversion.float(fromHalfBits: UInt16(littleEndian: p.loadUnaligned(as: UInt16.self)))
            case .bf16: out[i] = HalfConversion.float(fromBFloat16Bits: UInt16(littleEndian: p.loadUnaligned(as: UInt16.self)))
            case .f64: out[i] = Float(Double(bitPattern: UInt64(littleEndian: p.loadUnaligned(as: UInt64.self))))
            default: throw WeightsError.unsupportedDType(path: path, tensor: name, dtype: dtype.rawValue)
            }
            // Advance the multi-index like an odometer, keeping the element offset in step.
            var d = rank - 1
            while d >= 0 {
                index[d] += 1
                offset += r.stride[d]
                if index[d] < r.shape[d] { break }
                offset -= r.stride[d] * index[d]
                index[d] = 0
                d -= 1
            }
        }
        return Tensor(shape: r.shape, storage: storage)
    }
}
