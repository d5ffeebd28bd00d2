#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import AtomicFiles
import StrictJSON
import Tensor

/// Writes .safetensors files. Tensor data is produced lazily at write time, one tensor at a time, so
/// converting a multi-gigabyte checkpoint never holds more than one tensor in memory. The file is
/// written atomically (`AtomicFile`).
public struct SafeTensorsWriter {
    private struct Item {
        let name: String
        let dtype: DType
        let shape: [Int]
        let byteCount: Int
        let produce: () throws -> [UInt8]
    }

    public var metadata: [String: String] = [:]
    private var items: [Item] = []
    private var seen = Set<String>()

    public init() {}

    /// Stores `tensor` as `dtype` (F32, F16 or BF16; F16/BF16 round to nearest even).
    public mutating func add(_ name: String, _ tensor: Tensor, as dtype: DType = .f32) throws {
        try add(name, shape: tensor.shape, as: dtype) { tensor }
    }

    /// Stores a tensor whose data is computed when the file is written.
    public mutating func add(_ name: String, shape: [Int], as dtype: DType = .f32,
                             producer: @escaping () throws -> Tensor) throws {
        guard [.f32, .f16, .bf16].contains(dtype) else {
            throw WeightsError.invalidTensorName(name: name, detail: "the writer stores F32, F16 or BF16, not \(dtype.rawValue)")
        }
        guard let count = TensorMaterialisation.elementCount(shape) else {
            throw WeightsError.invalidTensorName(name: name, detail: "invalid shape \(shape)")
        }
        try add(name, dtype: dtype, shape: shape, byteCount: count * dtype.byteSize) {
            let t = try producer()
            guard t.shape == shape else {
                throw WeightsError.invalidTensorName(name: name, detail: "producer returned shape \(t.shape), declared \(shape)")
            }
            return Self.encode(t, as: dtype)
        }
    }

    /// Stores raw little-endian bytes of any dtype.
    public mutating func add(_ name: String, dtype: DType, shape: [Int], bytes: [UInt8]) throws {
        try add(name, dtype: dtype, shape: shape, byteCount: bytes.count) { bytes }
    }

    private mutating func add(_ name: String, dtype: DType, shape: [Int], byteCount: Int,
                              produce: @escaping () throws -> [UInt8]) throws {
        guard name != "__metadata__", !name.isEmpty else {
            throw WeightsError.invalidTensorName(name: name, detail: "reserved or empty name")
        }
        guard seen.insert(name).inserted else {
            throw WeightsError.invalidTensorName(name: name, detail: "added twice")
        }
        guard let count = TensorMaterialisation.elementCount(shape), count * dtype.byteSize == byteCount else {
            throw WeightsError.invalidTensorName(name: name, detail: "\(byteCount) bytes do not match shape \(shape) of \(dtype.rawValue)")
        }
        items.append(Item(name: name, dtype: dtype, shape: shape, byteCount: byteCount, produce: produce))
    }

    static func encode(_ t: Tensor, as dtype: DType) -> [UInt8] {
        t.withUnsafeBufferPointer { src -> [UInt8] in
            switch dtype {
            case .f16, .bf16:
                var out = [UInt8](repeating: 0, count: src.count * 2)
                for (i, v) in src.enumerated() {
                    let h = dtype == .f16 ? HalfConversion.halfBits(from: v) : HalfConversion.bfloat16Bits(from: v)
                    out[2 * i] = UInt8(h & 0xFF)
                    out[2 * i + 1] = UInt8(h >> 8)
                }
                return out
            default:
                var out = [UInt8](repeating: 0, count: src.count * 4)
                for (i, v) in src.enumerated() {
                    let b = v.bitPattern
                    out[4 * i] = UInt8(b & 0xFF)
                    out[4 * i + 1] = UInt8((b >> 8) & 0xFF)
                    out[4 * i + 2] = UInt8((b >> 16) & 0xFF)
                    out[4 * i + 3] = UInt8(b >> 24)
                }
                return out
            }
        }
    }

    /// The header JSON (padded with spaces to a multiple of 8 so the data section stays aligned).
    private func headerBytes(order: [Item]) -> [UInt8] {
        var parts: [String] = []
        if !metadata.isEmpty {
            let kv = metadata.keys.sorted().map { "\(JSONWriter.quoted($0)):\(JSONWriter.quoted(metadata[$0] ?? ""))" }
            parts.append("\"__metadata__\":{\(kv.joined(separator: ","))}")
        }
        var offset = 0
        for item in order {
            let shape = item.shape.map(String.init).joined(separator: ",")
            parts.append("\(JSONWriter.quoted(item.name)):{\"dtype\":\"\(item.dtype.rawValue)\",\"shape\":[\(shape)],\"data_offsets\":[\(offset),\(offset + item.byteCount)]}")
            offset += item.byteCount
        }
        var bytes = Array("{\(parts.joined(separator: ","))}".utf8)
        while (bytes.count + 8) % 8 != 0 { bytes.append(0x20) }
        return bytes
    }

    public func write(to path: String) throws {
        // Larger elements first keeps every tensor aligned to its element size (data starts at a
        // multiple of 8), then by name for a deterministic file.
        let order = items.sorted { ($0.dtype.byteSize, $1.name) > ($1.dtype.byteSize, $0.name) }
        let header = headerBytes(order: order)
        do {
            try AtomicFile.write(to: path, permissions: 0o644) { output in
                var length = UInt64(header.count).littleEndian
                try output.write(withUnsafeBytes(of: &length) { Array($0) })
                try output.write(header)
                for item in order {
                    let bytes = try item.produce()
                    guard bytes.count == item.byteCount else {
                        throw WeightsError.writeFailed(path: path, detail: "tensor '\(item.name)' produced \(bytes.count) bytes, declared \(item.byteCount)")
                    }
                    try output.write(bytes)
                }
            }
        } catch let error as AtomicFileError {
            throw WeightsError.writeFailed(path: path, detail: error.reason)
        }
    }
}

extension SafeTensorsWriter {
    /// Writes every tensor of `source` (e.g. an ncnn model under PyTorch names, or a .ckpt) to a
    /// safetensors file. Tensors are read one at a time while writing, so memory stays bounded by the
    /// largest tensor.
    public static func convert(_ source: any TensorSource, to path: String, as dtype: DType = .f32,
                               metadata: [String: String] = ["format": "pt"]) throws {
        var w = SafeTensorsWriter()
        w.metadata = metadata
        for name in source.names {
            guard let shape = source.shape(of: name) else { continue }
            try w.add(name, shape: shape, as: dtype) { try source.tensor(name) }
        }
        try w.write(to: path)
    }
}
