// The safetensors header: any file prefix either validates (every entry inside the data section, sizes matching
// dtype × shape) or throws WeightsError.
import Weights

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSafeTensors(_ data: UnsafeRawPointer, _ size: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    guard let header = try? SafeTensorsHeader(bytes: bytes, path: "fuzz.safetensors") else { return 0 }
    for entry in header.entries {
        precondition(entry.begin >= 0 && entry.begin <= entry.end && entry.end <= header.dataSize,
                     "entry \(entry.name) outside the data section")
        precondition(header.dataOffset + header.dataSize <= size, "data section beyond the file")
    }
    return 0
}
