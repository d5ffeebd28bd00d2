import Tensor

/// Builds float32 tensors from raw little-endian element bytes of any supported dtype.
enum TensorMaterialisation {
    /// Converts `count` elements of `dtype` starting at `source` into a new owned tensor.
    /// `source` needs no alignment: elements are read with unaligned loads.
    static func convert(_ source: UnsafeRawPointer, dtype: DType, count: Int, shape: [Int]) -> Tensor? {
        guard dtype.convertibleToFloat32 else { return nil }
        let storage = TensorStorage(uninitializedCount: count)
        let out = storage.pointer
        switch dtype {
        case .f32:
            // memcpy-style copy keeps NaN payloads and works for unaligned sources.
            UnsafeMutableRawPointer(out).copyMemory(from: source, byteCount: count * 4)
            #if _endian(big)
            for i in 0..<count { out[i] = Float(bitPattern: UInt32(littleEndian: out[i].bitPattern)) }
            #endif
        // Conversions of large tensors are spread over the shared compute pool (disjoint slices).
        case .f16:
            Parallel.forEachSlice(count: count, grain: 1 << 16) { r in
                for i in r {
                    let bits = UInt16(littleEndian: source.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
                    out[i] = HalfConversion.float(fromHalfBits: bits)
                }
            }
        case .bf16:
            Parallel.forEachSlice(count: count, grain: 1 << 16) { r in
                for i in r {
                    let bits = UInt16(littleEndian: source.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
                    out[i] = HalfConversion.float(fromBFloat16Bits: bits)
                }
            }
        case .f64:
            Parallel.forEachSlice(count: count, grain: 1 << 16) { r in
                for i in r {
                    let bits = UInt64(littleEndian: source.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self))
                    out[i] = Float(Double(bitPattern: bits))
                }
            }
        default:
            return nil
        }
        return Tensor(shape: shape, storage: storage)
    }

    /// Element count of `shape` with overflow checks; nil on a negative dimension or overflow.
    static func elementCount(_ shape: [Int]) -> Int? {
        var n = 1
        for d in shape {
            guard d >= 0 else { return nil }
            let (m, o) = n.multipliedReportingOverflow(by: d)
            if o { return nil }
            n = m
        }
        return n
    }
}
