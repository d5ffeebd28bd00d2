import StrictJSON

/// One tensor's header entry; `begin`/`end` are byte offsets relative to the start of the data section.
public struct SafeTensorsEntry: Sendable, Equatable {
    public let name: String
    public let dtype: DType
    public let shape: [Int]
    public let begin: Int
    public let end: Int
}

/// A validated safetensors header. Validation follows the reference implementation: nothing in the
/// file is trusted until the header length, encoding, every entry and the exact tiling of the data
/// section have been checked.
public struct SafeTensorsHeader: Sendable {
    /// The reference implementation's cap; larger headers are refused before any parsing.
    public static let maxHeaderSize = 100_000_000

    public let metadata: [String: String]
    /// Entries sorted by data offset (then name), which is also the on-disk order.
    public let entries: [SafeTensorsEntry]
    /// Absolute file offset of the data section (8 + header length).
    public let dataOffset: Int
    public let dataSize: Int

    /// Validates the header at the start of `bytes` (the whole file).
    public init(bytes: UnsafeRawBufferPointer, path: String) throws {
        guard bytes.count >= 8 else { throw WeightsError.fileTooSmall(path: path, size: bytes.count, needed: 8) }
        let length = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: 0, as: UInt64.self))
        guard length <= UInt64(Self.maxHeaderSize) else {
            throw WeightsError.headerTooLarge(path: path, length: length, limit: Self.maxHeaderSize)
        }
        let headerEnd = 8 + Int(length)
        guard headerEnd <= bytes.count else {
            throw WeightsError.headerOutOfBounds(path: path, headerEnd: UInt64(headerEnd), fileSize: bytes.count)
        }
        let headerBytes = UnsafeRawBufferPointer(rebasing: bytes[8..<headerEnd])
        guard String(validating: headerBytes, as: UTF8.self) != nil else {
            throw WeightsError.invalidHeaderJSON(path: path, offset: 0, detail: "header is not valid UTF-8")
        }
        // The reference requires the header to start with '{' (no leading whitespace).
        guard headerBytes.first == UInt8(ascii: "{") else {
            throw WeightsError.invalidHeaderJSON(path: path, offset: 0, detail: "header does not start with '{'")
        }
        let json: JSONValue
        do {
            json = try JSONParser.parse(headerBytes)
        } catch let e as JSONParseError {
            throw WeightsError.invalidHeaderJSON(path: path, offset: e.offset, detail: e.description)
        }
        guard case let .object(members) = json else {
            throw WeightsError.invalidHeader(path: path, detail: "top level is a \(json.typeName), not an object")
        }

        var metadata: [String: String] = [:]
        var entries: [SafeTensorsEntry] = []
        entries.reserveCapacity(members.count)
        // Sorted, so that of several bad entries the same one is always reported.
        for (name, value) in members.sorted(by: { $0.key < $1.key }) {
            if name == "__metadata__" {
                metadata = try Self.parseMetadata(value, path: path)
            } else {
                entries.append(try Self.parseEntry(name: name, value: value, path: path))
            }
        }

        let dataSize = bytes.count - headerEnd
        entries.sort { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }
        var expected = 0
        for entry in entries {
            guard entry.end <= dataSize else {
                throw WeightsError.tensorOutOfBounds(path: path, tensor: entry.name, begin: entry.begin, end: entry.end, dataSize: dataSize)
            }
            guard entry.begin == expected else {
                throw WeightsError.nonContiguousData(path: path, tensor: entry.name, expectedBegin: expected, begin: entry.begin)
            }
            expected = entry.end
        }
        guard expected == dataSize else {
            throw WeightsError.dataNotCovered(path: path, coveredBytes: expected, dataSize: dataSize)
        }
        self.metadata = metadata
        self.entries = entries
        self.dataOffset = headerEnd
        self.dataSize = dataSize
    }

    private static func parseMetadata(_ value: JSONValue, path: String) throws -> [String: String] {
        guard case let .object(items) = value else {
            throw WeightsError.invalidHeader(path: path, detail: "__metadata__ is a \(value.typeName), not an object")
        }
        var out: [String: String] = [:]
        for (k, v) in items.sorted(by: { $0.key < $1.key }) {
            guard case let .string(s) = v else {
                throw WeightsError.invalidHeader(path: path, detail: "__metadata__['\(k)'] is a \(v.typeName), not a string")
            }
            out[k] = s
        }
        return out
    }

    private static func parseEntry(name: String, value: JSONValue, path: String) throws -> SafeTensorsEntry {
        func bad(_ detail: String) -> WeightsError { .invalidTensorEntry(path: path, tensor: name, detail: detail) }
        guard case let .object(fields) = value else { throw bad("entry is a \(value.typeName), not an object") }
        var dtypeValue: JSONValue?, shapeValue: JSONValue?, offsetsValue: JSONValue?
        for (k, v) in fields.sorted(by: { $0.key < $1.key }) {
            switch k {
            case "dtype": dtypeValue = v
            case "shape": shapeValue = v
            case "data_offsets": offsetsValue = v
            default: throw bad("unknown field '\(k)'")
            }
        }
        guard case let .string(dtypeName)? = dtypeValue else { throw bad("missing or non-string 'dtype'") }
        guard let dtype = DType(rawValue: dtypeName) else {
            throw WeightsError.unknownDType(path: path, tensor: name, dtype: dtypeName)
        }
        guard case let .array(dims)? = shapeValue else { throw bad("missing or non-array 'shape'") }
        var shape: [Int] = []
        shape.reserveCapacity(dims.count)
        for d in dims {
            guard let v = d.nonNegativeInt else { throw bad("shape element \(JSONWriter.serialize(d).prefix(40)) is not a non-negative integer") }
            shape.append(v)
        }
        guard case let .array(offsets)? = offsetsValue, offsets.count == 2,
              let begin = offsets[0].nonNegativeInt, let end = offsets[1].nonNegativeInt else {
            throw bad("'data_offsets' must be two non-negative integers")
        }
        guard begin <= end else { throw bad("data_offsets begin \(begin) is after end \(end)") }
        guard let count = TensorMaterialisation.elementCount(shape) else { throw bad("element count of shape \(shape) overflows") }
        let (bytes, overflow) = count.multipliedReportingOverflow(by: dtype.byteSize)
        guard !overflow else { throw bad("byte size of shape \(shape) overflows") }
        guard bytes == end - begin else {
            throw WeightsError.sizeMismatch(path: path, tensor: name, expectedBytes: bytes, actualBytes: end - begin)
        }
        return SafeTensorsEntry(name: name, dtype: dtype, shape: shape, begin: begin, end: end)
    }
}

extension JSONValue {
    /// An integer literal that is >= 0 and fits in Int; nil for fractions, exponents (even "1e3"), signs, overflow.
    fileprivate var nonNegativeInt: Int? {
        guard let i = integerValue, i >= 0 else { return nil }
        return Int(exactly: i)
    }
}
