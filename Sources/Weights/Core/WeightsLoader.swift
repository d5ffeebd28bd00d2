/// Opens any supported weights file by its content (and extension for the multi-file formats):
/// `.param` -> NCNNModel with the `.bin` of the same stem; `*.index.json` -> sharded safetensors;
/// a zip or pickle -> TorchCheckpoint (which explains legacy pickles); anything else -> safetensors.
public enum WeightsLoader {
    public static func open(path: String) throws -> any TensorSource {
        if path.hasSuffix(".param") {
            return try NCNNModel(paramPath: path, binPath: String(path.dropLast(".param".count)) + ".bin")
        }
        if path.hasSuffix(".index.json") {
            return try ShardedSafeTensors.open(indexPath: path)
        }
        let file = try MappedFile(path: path)
        let b = file.bytes
        if b.count >= 2, (b[0] == 0x50 && b[1] == 0x4B) || b[0] == 0x80 {
            return try TorchCheckpoint(path: path)
        }
        return try SafeTensorsFile(path: path)
    }
}
