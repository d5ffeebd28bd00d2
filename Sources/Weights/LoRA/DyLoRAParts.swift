import Tensor

/// kohya's DyLoRA (sd-scripts `networks/dylora.py`) keeps a module's factors as one parameter per rank:
/// `NAME.lora_A.<i>` rows [1, in(, k, k)] and `NAME.lora_B.<i>` columns [out, 1(, 1, 1)]. Its own `state_dict`
/// saves them concatenated as an ordinary `lora_down` [r, in, …] / `lora_up` [out, r, …] (those files load as any
/// kohya LoRA); a raw per-rank dump is assembled here into the same two factors, rank i = part i.
struct DyLoRAParts {
    var a: [Int: String] = [:]
    var b: [Int: String] = [:]

    /// (module key, A or B, rank index) of a per-rank tensor name.
    static func split(_ name: String) -> (module: String, isA: Bool, index: Int)? {
        guard let dot = name.lastIndex(of: "."), let index = Int(name[name.index(after: dot)...]), index >= 0 else { return nil }
        let head = name[..<dot]
        for (suffix, isA) in [(".lora_A", true), (".lora_B", false)] where head.hasSuffix(suffix) && head.count > suffix.count {
            return (String(head.dropLast(suffix.count)), isA, index)
        }
        return nil
    }

    /// down [r, in, …] and up [out, r, …], or why the parts do not make them.
    func assemble(read: (String) throws -> Tensor) throws -> (down: Tensor, up: Tensor) {
        let rank = a.count
        guard rank > 0, b.count == rank, (0..<rank).allSatisfy({ a[$0] != nil && b[$0] != nil }) else {
            throw DyLoRAError(detail: "lora_A / lora_B parts are not one of each for ranks 0..<\(max(a.count, b.count))")
        }
        var down: [Float] = [], up: [Float] = []
        var rowShape: [Int]?, columnShape: [Int]?
        var columns: [[Float]] = []
        for i in 0..<rank {
            guard let nameA = a[i], let nameB = b[i] else { continue }
            let row = try read(nameA), column = try read(nameB)
            guard row.rank >= 2, row.shape[0] == 1, column.rank >= 2, column.shape[1] == 1,
                  column.count == column.shape[0] else {
                throw DyLoRAError(detail: "rank \(i): lora_A \(row.shape) / lora_B \(column.shape) are not [1, in, …] / [out, 1, …]")
            }
            guard rowShape == nil || rowShape == row.shape, columnShape == nil || columnShape == column.shape else {
                throw DyLoRAError(detail: "rank \(i): shapes \(row.shape) / \(column.shape) differ from rank 0's")
            }
            (rowShape, columnShape) = (row.shape, column.shape)
            down += row.scalars
            columns.append(column.scalars)
        }
        guard let rowShape, let columnShape else { throw DyLoRAError(detail: "no parts") }
        let out = columnShape[0]
        up.reserveCapacity(out * rank)
        for o in 0..<out { for i in 0..<rank { up.append(columns[i][o]) } }
        var upShape = columnShape
        upShape[1] = rank
        return (Tensor(shape: [rank] + rowShape.dropFirst(), values: down), Tensor(shape: upShape, values: up))
    }
}

struct DyLoRAError: Error, CustomStringConvertible {
    let detail: String
    var description: String { "DyLoRA per-rank parts: \(detail)" }
}
