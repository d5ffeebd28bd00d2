// torch.save checkpoints through the real entry point (zip reader, CRC check, restricted unpickler, state-dict
// extraction, storage validation; legacy non-zip files too): any file either opens, with every tensor
// readable, or throws WeightsError. The input goes through a file because that is what the loader maps.
import Glibc
import Weights

let checkpointPath: String = {
    let folder = getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp"
    return folder + "/diffusiond-fuzz-torch-\(getpid()).pt"
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTorch(_ data: UnsafeRawPointer, _ size: Int) -> CInt {
    guard let file = fopen(checkpointPath, "wb") else { fatalError("cannot write \(checkpointPath)") }
    precondition(fwrite(data, 1, size, file) == size, "short write to \(checkpointPath)")
    fclose(file)
    defer { unlink(checkpointPath) }
    guard let checkpoint = try? TorchCheckpoint(path: checkpointPath) else { return 0 }
    for name in checkpoint.names { _ = try? checkpoint.tensor(name) }
    return 0
}
