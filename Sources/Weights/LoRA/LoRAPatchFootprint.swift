import Foundation

/// What applying a LoRA / LyCORIS file costs in memory, from its tensor names and shapes only (nothing read):
/// each module patches one base weight, which the job holds as a patched copy beside the original, plus the
/// file's own tensors in float32. Admission control adds it to the job's weights.
public enum LoRAPatchFootprint {
    /// float32 bytes of the patched copies and of the file's tensors.
    public static func bytes(path: String) throws -> Int {
        let source: any TensorSource
        switch (path as NSString).pathExtension.lowercased() {
        case "safetensors": source = try SafeTensorsFile(path: path)
        default: source = try TorchCheckpoint(path: path)
        }
        return bytes(source: source)
    }

    public static func bytes(source: any TensorSource) -> Int {
        let groups = LoRAKeyGroups(names: source.names)
        func shape(_ role: LoRATensorRole, _ roles: [LoRATensorRole: String]) -> [Int]? { roles[role].flatMap(source.shape(of:)) }
        func count(_ dims: [Int]) -> Int { dims.reduce(1) { $0 * max(0, $1) } }
        var elements = source.names.reduce(0) { $0 + count(source.shape(of: $1) ?? []) }
        for roles in groups.modules.values {
            if let up = shape(.up, roles), let down = shape(.down, roles), let out = up.first {
                elements += out * count(Array(down.dropFirst()))  // DyLoRA: rank 0's parts give the same shape
            } else if let a = shape(.hadaW1A, roles), let b = shape(.hadaW1B, roles), let out = a.first {
                elements += out * count(Array(b.dropFirst()))
            } else if roles[.lokrW1] != nil || roles[.lokrW1A] != nil {
                // Kronecker product: the patched weight has the product of both factors' elements.
                let w1 = shape(.lokrW1, roles).map(count)
                    ?? ((shape(.lokrW1A, roles)?.first ?? 0) * (shape(.lokrW1B, roles)?.dropFirst().reduce(1, *) ?? 0))
                let w2 = shape(.lokrW2, roles).map(count)
                    ?? ((shape(.lokrW2A, roles)?.first ?? 0) * (shape(.lokrW2B, roles).map { count(Array($0.dropFirst())) } ?? 0))
                elements += w1 * w2
            } else if let diff = shape(.diff, roles) {
                elements += count(diff)
            }
        }
        return elements * MemoryLayout<Float>.size
    }
}
