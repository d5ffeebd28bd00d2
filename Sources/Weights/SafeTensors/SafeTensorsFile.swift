import Tensor

/// A memory-mapped .safetensors file. The header is fully validated in `init`; tensors are read
/// lazily. Aligned F32 tensors are zero-copy views into the mapping (read-only, the mapping stays
/// alive while any such tensor exists); other dtypes are converted to float32 copies.
public struct SafeTensorsFile: TensorSource, @unchecked Sendable {
    public let path: String
    public let header: SafeTensorsHeader
    public let names: [String]
    private let file: MappedFile
    private let index: [String: SafeTensorsEntry]

    public init(path: String) throws {
        let file = try MappedFile(path: path)
        let header = try SafeTensorsHeader(bytes: file.bytes, path: path)
        self.path = path
        self.file = file
        self.header = header
        var index: [String: SafeTensorsEntry] = [:]
        for e in header.entries { index[e.name] = e }
        self.index = index
        self.names = index.keys.sorted()
    }

    public var metadata: [String: String] { header.metadata }

    public func entry(_ name: String) -> SafeTensorsEntry? { index[name] }

    public func shape(of name: String) -> [Int]? { index[name]?.shape }

    public func dtype(of name: String) -> DType? { index[name]?.dtype }

    /// The stored bytes of a tensor (valid while this file value or a copy of it is alive).
    public func rawBytes(_ name: String) throws -> UnsafeRawBufferPointer {
        guard let e = index[name] else { throw WeightsError.tensorNotFound(path: path, tensor: name) }
        let start = header.dataOffset + e.begin
        return UnsafeRawBufferPointer(rebasing: file.bytes[start..<(start + e.end - e.begin)])
    }

    public func tensor(_ name: String) throws -> Tensor {
        guard let e = index[name] else { throw WeightsError.tensorNotFound(path: path, tensor: name) }
        guard e.dtype.convertibleToFloat32 else {
            throw WeightsError.unsupportedDType(path: path, tensor: name, dtype: e.dtype.rawValue)
        }
        let count = e.shape.reduce(1, *)  // validated not to overflow
        let raw = try rawBytes(name)
        guard let base = raw.baseAddress, count > 0 else { return Tensor(shape: e.shape, repeating: 0) }
        #if _endian(little)
        if e.dtype == .f32, Int(bitPattern: base) % MemoryLayout<Float>.alignment == 0 {
            let storage = TensorStorage(borrowing: base.assumingMemoryBound(to: Float.self), count: count, owner: file)
            return Tensor(shape: e.shape, storage: storage)
        }
        #endif
        guard let t = TensorMaterialisation.convert(base, dtype: e.dtype, count: count, shape: e.shape) else {
            throw WeightsError.unsupportedDType(path: path, tensor: name, dtype: e.dtype.rawValue)
        }
        return t
    }
}
