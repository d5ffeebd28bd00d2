/// Every way loading a checkpoint can fail. Each case names the file and, where one is involved, the
/// tensor, entry or layer and the byte offsets, so a user can tell exactly what is wrong with a file.
public enum WeightsError: Error, Equatable, Sendable {
    // Files.
    case fileUnreadable(path: String, detail: String)
    case fileTooSmall(path: String, size: Int, needed: Int)

    // safetensors header.
    case headerTooLarge(path: String, length: UInt64, limit: Int)
    case headerOutOfBounds(path: String, headerEnd: UInt64, fileSize: Int)
    /// `offset` is a byte offset into the header; nil when the fault is the whole header's (nesting depth).
    case invalidHeaderJSON(path: String, offset: Int?, detail: String)
    case invalidHeader(path: String, detail: String)
    case invalidTensorEntry(path: String, tensor: String, detail: String)
    case unknownDType(path: String, tensor: String, dtype: String)
    case sizeMismatch(path: String, tensor: String, expectedBytes: Int, actualBytes: Int)
    case tensorOutOfBounds(path: String, tensor: String, begin: Int, end: Int, dataSize: Int)
    /// Entries, sorted by offset, must tile the data section with no gap or overlap.
    case nonContiguousData(path: String, tensor: String, expectedBegin: Int, begin: Int)
    case dataNotCovered(path: String, coveredBytes: Int, dataSize: Int)

    // Access.
    case tensorNotFound(path: String, tensor: String)
    case unsupportedDType(path: String, tensor: String, dtype: String)

    // ZIP containers (PyTorch checkpoints).
    case invalidZip(path: String, offset: Int, detail: String)
    case compressedZipEntry(path: String, entry: String, method: Int)
    case missingZipEntry(path: String, entry: String)
    /// A pickle that is not a torch.save file (the legacy format starts with its magic-number pickle).
    case legacyTorchFormat(path: String)

    // Pickle.
    case invalidPickle(path: String, offset: Int, detail: String)
    case unsupportedOpcode(path: String, offset: Int, opcode: UInt8)
    /// A GLOBAL outside the allow-list, named `module.name`. Nothing is ever executed.
    case forbiddenGlobal(path: String, offset: Int, name: String)
    case pickleLimitExceeded(path: String, offset: Int, limit: String)
    case invalidCheckpoint(path: String, detail: String)
    case invalidTensorRecord(path: String, tensor: String, detail: String)

    // ncnn.
    case invalidNCNNParam(path: String, line: Int, detail: String)
    case invalidNCNNBin(path: String, layer: String, offset: Int, detail: String)
    case unsupportedNCNNLayer(path: String, layer: String, type: String)
    case unsupportedNCNNStorage(path: String, layer: String, offset: Int, tag: UInt32)

    // Strict loading by models.
    case shapeMismatch(tensor: String, expected: [Int], actual: [Int])
    case missingTensor(tensor: String)

    // Combining sources.
    case duplicateTensor(path: String, tensor: String)
    case invalidShardIndex(path: String, detail: String)

    // Writing.
    case writeFailed(path: String, detail: String)
    case invalidTensorName(name: String, detail: String)
}

extension WeightsError: CustomStringConvertible {
    public var description: String {
        switch self {
        case let .fileUnreadable(p, d): return "\(p): cannot read file: \(d)"
        case let .fileTooSmall(p, s, n): return "\(p): file is \(s) bytes, at least \(n) needed"
        case let .headerTooLarge(p, l, lim): return "\(p): safetensors header length \(l) exceeds the \(lim)-byte limit"
        case let .headerOutOfBounds(p, e, s): return "\(p): safetensors header ends at byte \(e) but the file has \(s) bytes"
        case let .invalidHeaderJSON(p, o?, d): return "\(p): safetensors header is not valid JSON at header byte \(o): \(d)"
        case let .invalidHeaderJSON(p, nil, d): return "\(p): safetensors header is not valid JSON: \(d)"
        case let .invalidHeader(p, d): return "\(p): invalid safetensors header: \(d)"
        case let .invalidTensorEntry(p, t, d): return "\(p): tensor '\(t)': invalid header entry: \(d)"
        case let .unknownDType(p, t, d): return "\(p): tensor '\(t)': unknown dtype '\(d)'"
        case let .sizeMismatch(p, t, e, a): return "\(p): tensor '\(t)': shape and dtype need \(e) bytes but data_offsets span \(a)"
        case let .tensorOutOfBounds(p, t, b, e, s): return "\(p): tensor '\(t)': data_offsets [\(b), \(e)) outside the \(s)-byte data section"
        case let .nonContiguousData(p, t, e, b): return "\(p): tensor '\(t)': data starts at \(b), expected \(e) (gap or overlap between tensors)"
        case let .dataNotCovered(p, c, s): return "\(p): tensors cover \(c) bytes of a \(s)-byte data section"
        case let .tensorNotFound(p, t): return "\(p): no tensor named '\(t)'"
        case let .unsupportedDType(p, t, d): return "\(p): tensor '\(t)': dtype \(d) cannot be converted to float32"
        case let .invalidZip(p, o, d): return "\(p): invalid zip archive at byte \(o): \(d)"
        case let .compressedZipEntry(p, e, m): return "\(p): zip entry '\(e)' is compressed (method \(m)); only stored entries are supported (torch.save writes stored entries)"
        case let .missingZipEntry(p, e): return "\(p): zip archive has no entry '\(e)'"
        case let .legacyTorchFormat(p): return "\(p): a bare pickle, neither torch.save's zip format nor its legacy format (no magic number); re-save it with torch.save or convert it to safetensors"
        case let .invalidPickle(p, o, d): return "\(p): invalid pickle at byte \(o): \(d)"
        case let .unsupportedOpcode(p, o, op): return "\(p): pickle opcode 0x\(String(op, radix: 16)) at byte \(o) is not supported in a state dict"
        case let .forbiddenGlobal(p, o, n): return "\(p): pickle references forbidden global '\(n)' at byte \(o); refused (nothing was executed)"
        case let .pickleLimitExceeded(p, o, l): return "\(p): pickle exceeds a safety limit at byte \(o): \(l)"
        case let .invalidCheckpoint(p, d): return "\(p): invalid checkpoint: \(d)"
        case let .invalidTensorRecord(p, t, d): return "\(p): tensor '\(t)': \(d)"
        case let .invalidNCNNParam(p, l, d): return "\(p):\(l): invalid ncnn param: \(d)"
        case let .invalidNCNNBin(p, l, o, d): return "\(p): layer '\(l)' at byte \(o): \(d)"
        case let .unsupportedNCNNLayer(p, l, t): return "\(p): layer '\(l)' of type \(t) has weights this loader does not know"
        case let .unsupportedNCNNStorage(p, l, o, t): return "\(p): layer '\(l)' at byte \(o): weight storage tag 0x\(String(t, radix: 16)) is not supported (only float32 and float16)"
        case let .shapeMismatch(t, e, a): return "tensor '\(t)' has shape \(a), the model expects \(e)"
        case let .missingTensor(t): return "the model needs tensor '\(t)', which the checkpoint does not have"
        case let .duplicateTensor(p, t): return "\(p): tensor '\(t)' is provided by more than one file"
        case let .invalidShardIndex(p, d): return "\(p): invalid shard index: \(d)"
        case let .writeFailed(p, d): return "\(p): cannot write: \(d)"
        case let .invalidTensorName(n, d): return "tensor name '\(n)': \(d)"
        }
    }
}
