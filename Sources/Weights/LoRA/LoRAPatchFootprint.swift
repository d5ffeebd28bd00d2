import Foundation

/// What applying a LoRA / LyCORIS file costs in memory, from its tensor names and shapes only (nothing read):
/// each module patches one base weight, which the job holds as a patched copy beside the original, plus the
/// file's own tensors in float32. Admission control adds it to the job's weights. The element counts follow
/// the shapes `LoRAMath.delta` builds ΔW from (CP and Tucker cores included).
public enum LoRAPatchFootprint {
    /// float32 bytes of the patched copies and of the file's tensors.
    public static func bytes(path: String) throws -> Int {
        bytes(source: try open(path))
    }

    public static func bytes(source: any TensorSource) -> Int {
        let own = source.names.reduce(0) { $0 + count(source.shape(of: $1) ?? []) }
        return (own + patchedElements(source: source).values.reduce(0, +)) * MemoryLayout<Float>.size
    }

    /// Elements of the weight each module patches, by module key; modules whose shapes make no ΔW are left out.
    public static func patchedElements(source: any TensorSource) -> [String: Int] {
        var result: [String: Int] = [:]
        for (key, roles) in LoRAKeyGroups(names: source.names).modules {
            func s(_ role: LoRATensorRole) -> [Int]? { roles[role].flatMap(source.shape(of:)) }
            if let n = elements(s) { result[key] = n }
        }
        return result
    }

    static func elements(_ s: (LoRATensorRole) -> [Int]?) -> Int? {
        if let up = s(.up), let down = s(.down), let out = up.first {
            // DyLoRA's rank-0 parts name the same shapes; a CP core adds its kernel.
            return out * count(Array(down.dropFirst())) * (s(.mid).map { count(Array($0.dropFirst(2))) } ?? 1)
        }
        if s(.hadaW1A) != nil {
            if let t1 = s(.hadaT1) { return tucker(t1, wa: s(.hadaW1B), wb: s(.hadaW1A)) }
            return product(s(.hadaW1A), s(.hadaW1B))
        }
        if s(.lokrW1) != nil || s(.lokrW1A) != nil {
            // Kronecker product: the patched weight has the product of both factors' elements.
            guard let w1 = s(.lokrW1).map(count) ?? product(s(.lokrW1A), s(.lokrW1B)),
                  let w2 = s(.lokrW2).map(count)
                    ?? (s(.lokrT2).map { tucker($0, wa: s(.lokrW2B), wb: s(.lokrW2A)) } ?? product(s(.lokrW2A), s(.lokrW2B)))
            else { return nil }
            return w1 * w2
        }
        return s(.diff).map(count)
    }

    static func count(_ dims: [Int]) -> Int { dims.reduce(1) { $0 * max(0, $1) } }

    /// a [m, r] · b [r, …]: m × the rest of b.
    static func product(_ a: [Int]?, _ b: [Int]?) -> Int? {
        guard let a, let b, let m = a.first else { return nil }
        return m * count(Array(b.dropFirst()))
    }

    /// A Tucker core t [r1, r2, kh, kw] between wb [r1, p] and wa [r2, q]: p × q × kh × kw.
    static func tucker(_ t: [Int], wa: [Int]?, wb: [Int]?) -> Int? {
        guard t.count == 4, let wa, let wb, wa.count == 2, wb.count == 2 else { return nil }
        return wb[1] * wa[1] * t[2] * t[3]
    }

    static func open(_ path: String) throws -> any TensorSource {
        switch (path as NSString).pathExtension.lowercased() {
        case "safetensors": return try SafeTensorsFile(path: path)
        default: return try TorchCheckpoint(path: path)
        }
    }
}
