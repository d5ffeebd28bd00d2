import Tensor
import Weights

/// The weight change of one adapter module, as the kohya / LyCORIS / ComfyUI loaders compute it, in float32.
///
/// - LoRA: ΔW = up · down (rows × everything else), scale α/r with r = down's rows; LoCon's k×k `down` is the
///   same product; CP (`lora_mid`): ΔW[p,q,k,l] = Σᵢⱼ up[p,i] mid[i,j,k,l] down[j,q].
/// - LoHa: ΔW = (w1a·w1b) ⊙ (w2a·w2b), r = w1b's rows; Tucker: each factor rebuilt as
///   einsum("i j k l, j r, i p -> p r k l", t, wb, wa).
/// - LoKr: ΔW = w1 ⊗ w2 (each whole, a product a·b, or w2 through t2); scale α/dim only when a factor is
///   decomposed (dim = its inner size, w2's when both are), else 1.
/// - full: ΔW = diff, scale 1.
///
/// `dyn` (A1111's DyLoRA `dyn=N`) keeps only the first N ranks of a plain LoRA / LoCon: the first N rows of down
/// and columns of up, the scale still α over the file's full rank (A1111's `rebuild_conventional` and
/// `calc_scale`); N at or above the rank uses them all; CP and the LyCORIS types ignore it, as A1111 does.
public enum LoRAMath {
    /// (scale, ΔW with `shape`'s element count); nil when the factors cannot make a tensor of `shape`.
    public static func delta(_ module: LoRAModule, shape: [Int], dyn: Int? = nil) -> (scale: Float, delta: Tensor)? {
        let count = shape.reduce(1, *)
        guard shape.count >= 2, count > 0 else { return nil }
        let out = shape[0], kernel = shape.dropFirst(2).reduce(1, *)
        func scale(rank: Int) -> Float { module.alpha.map { $0 / Float(rank) } ?? 1 }
        // Every factor must be non-empty; every intermediate product is checked against `count` before it is
        // computed, so a file cannot make us allocate more than the target's size.
        let factors: [Tensor]
        switch module.delta {
        case let .lora(up, down, mid): factors = [up, down] + (mid.map { [$0] } ?? [])
        case let .loha(w1a, w1b, w2a, w2b, t1, t2): factors = [w1a, w1b, w2a, w2b] + [t1, t2].compactMap { $0 }
        case let .lokr(w1, w2, t2):
            factors = [w1, w2].flatMap { f -> [Tensor] in
                switch f {
                case let .whole(w): return [w]
                case let .product(a, b): return [a, b]
                }
            } + (t2.map { [$0] } ?? [])
        case let .full(diff, _): factors = [diff]
        }
        guard factors.allSatisfy({ $0.rank >= 2 && $0.count > 0 }) else { return nil }
        let result: (Float, Tensor)?
        switch module.delta {
        case let .lora(up, down, mid):
            let rank = down.shape[0]
            guard up.shape[0] == out, up.count == out * (mid?.shape[0] ?? rank) else { return nil }
            let up2 = up.reshaped([out, up.count / out])
            let down2 = down.reshaped([rank, down.count / rank])
            if let mid {
                guard mid.rank == 4, mid.shape[0] == up2.shape[1], mid.shape[1] == rank,
                      out * down2.shape[1] * (mid.count / (mid.shape[0] * rank)) == count else { return nil }
                result = (scale(rank: rank), cp(left: up2, mid: mid, right: down2))
            } else {
                guard up2.shape[1] == rank, out * down2.shape[1] == count else { return nil }
                let (up, down) = leadingRanks(up: up2, down: down2, dyn: dyn)
                result = (scale(rank: rank), matmul(up, down))
            }
        case let .loha(w1a, w1b, w2a, w2b, t1, t2):
            let rank = w1b.shape[0]
            let m1: Tensor, m2: Tensor
            if let t1, let t2 {
                guard let a = tucker(t1, wa: w1b, wb: w1a, limit: count), let b = tucker(t2, wa: w2b, wb: w2a, limit: count) else { return nil }
                (m1, m2) = (a, b)
            } else {
                guard let a = product(w1a, w1b, limit: count), let b = product(w2a, w2b, limit: count) else { return nil }
                (m1, m2) = (a, b)
            }
            guard m1.count == m2.count else { return nil }
            result = (scale(rank: rank), hadamard(m1, m2))
        case let .lokr(w1Factor, w2Factor, t2):
            var dim: Int?
            let w1: Tensor
            switch w1Factor {
            case let .whole(w): w1 = w
            case let .product(a, b):
                guard let p = product(a, b, limit: count) else { return nil }
                w1 = p
                dim = b.shape[0]
            }
            let w2: Tensor
            switch (w2Factor, t2) {
            case let (.whole(w), _): w2 = w
            case let (.product(a, b), t2?):
                guard let p = tucker(t2, wa: b, wb: a, limit: count) else { return nil }
                w2 = p
                dim = b.shape[0]
            case let (.product(a, b), nil):
                guard let p = product(a, b, limit: count) else { return nil }
                w2 = p
                dim = b.shape[0]
            }
            guard w1.rank == 2 || (w1.rank == 4 && w1.shape[2] * w1.shape[3] == 1) else { return nil }
            let (a, b) = (w1.shape[0], w1.shape[1])
            guard a > 0, b > 0, out % a == 0, shape[1] % b == 0 else { return nil }
            let (c, d) = (out / a, shape[1] / b)
            guard w2.count == c * d * kernel else { return nil }
            let scale = (module.alpha != nil && dim != nil) ? (module.alpha ?? 1) / Float(dim ?? 1) : 1
            result = (scale, kronecker(w1.reshaped([a, b]), w2.reshaped([c, d, kernel])))
        case let .full(diff, _):
            result = (1, diff)
        }
        guard let (s, d) = result, d.count == count else { return nil }
        return (s, d.reshaped(shape))
    }

    /// A plain LoRA / LoCon's factors as matrices, up [out, r] and down [r, rest], when ΔW = up · down has
    /// `shape` (no CP mid): the patcher then accumulates the product straight into the weight (one GEMM with
    /// beta = 1, no ΔW buffer). nil for every other module or shape.
    public static func lowRankFactors(_ module: LoRAModule, shape: [Int], dyn: Int? = nil) -> (scale: Float, up: Tensor, down: Tensor)? {
        guard case let .lora(up, down, nil) = module.delta, shape.count >= 2, up.rank >= 2, down.rank >= 2 else { return nil }
        let count = shape.reduce(1, *), out = shape[0], rank = down.shape[0]
        guard count > 0, rank > 0, up.shape[0] == out, up.count == out * rank, down.count % rank == 0,
              out * (down.count / rank) == count else { return nil }
        let scale = module.alpha.map { $0 / Float(rank) } ?? 1
        let (up2, down2) = leadingRanks(up: up.reshaped([out, rank]), down: down.reshaped([rank, down.count / rank]), dyn: dyn)
        return (scale, up2, down2)
    }

    /// up [out, r] and down [r, rest] cut to their first min(dyn, r) ranks (the factors themselves without dyn).
    static func leadingRanks(up: Tensor, down: Tensor, dyn: Int?) -> (up: Tensor, down: Tensor) {
        let (out, rank, rest) = (up.shape[0], down.shape[0], down.shape[1])
        guard let dyn, dyn > 0, dyn < rank else { return (up, down) }
        let upValues = up.scalars
        var kept = [Float]()
        kept.reserveCapacity(out * dyn)
        for o in 0..<out { kept += upValues[(o * rank)..<(o * rank + dyn)] }
        return (Tensor(shape: [out, dyn], values: kept), Tensor(shape: [dyn, rest], values: Array(down.scalars[0..<(dyn * rest)])))
    }

    /// a [m, r] · b [r, …] as [m, everything else]; nil when the factors do not chain or the product would hold
    /// more than `limit` elements.
    static func product(_ a: Tensor, _ b: Tensor, limit: Int) -> Tensor? {
        guard a.rank >= 2, b.rank >= 2, b.shape[0] > 0, a.count == a.shape[0] * b.shape[0] else { return nil }
        let columns = b.count / b.shape[0]
        let (size, overflow) = a.shape[0].multipliedReportingOverflow(by: columns)
        guard !overflow, size <= limit else { return nil }
        return matmul(a.reshaped([a.shape[0], b.shape[0]]), b.reshaped([b.shape[0], columns]))
    }

    /// out[p, q, kl] = Σᵢⱼ left[p, i] mid[i, j, kl] right[j, q].
    static func cp(left: Tensor, mid: Tensor, right: Tensor) -> Tensor {
        let (p, i) = (left.shape[0], left.shape[1])
        let j = mid.shape[1], kl = mid.count / (mid.shape[0] * j)
        let q = right.count / j
        let rightT = transposed(right.reshaped([j, q]))  // [q, j]
        // inner[i, q, kl] = Σⱼ right[j, q] mid[i, j, kl]
        var inner = [Float](repeating: 0, count: i * q * kl)
        let midValues = mid.scalars
        for index in 0..<i {
            let slice = Tensor(shape: [j, kl], values: Array(midValues[(index * j * kl)..<((index + 1) * j * kl)]))
            let part = matmul(rightT, slice).scalars
            inner.replaceSubrange((index * q * kl)..<((index + 1) * q * kl), with: part)
        }
        return matmul(left, Tensor(shape: [i, q * kl], values: inner)).reshaped([p, q, kl])
    }

    /// LyCORIS' rebuild_tucker: einsum("i j k l, j r, i p -> p r k l", t, wa, wb); nil when the shapes do not chain
    /// or the result would hold more than `limit` elements.
    static func tucker(_ t: Tensor, wa: Tensor, wb: Tensor, limit: Int) -> Tensor? {
        guard t.rank == 4, t.count > 0, wa.rank == 2, wb.rank == 2, wa.shape[0] == t.shape[1], wb.shape[0] == t.shape[0] else { return nil }
        let (pq, o1) = wb.shape[1].multipliedReportingOverflow(by: wa.shape[1])
        let (size, o2) = pq.multipliedReportingOverflow(by: t.shape[2] * t.shape[3])
        guard !o1, !o2, size <= limit else { return nil }
        return cp(left: transposed(wb), mid: t, right: wa)
    }

    static func transposed(_ m: Tensor) -> Tensor {
        let (rows, columns) = (m.shape[0], m.shape[1])
        let values = m.scalars
        var out = [Float](repeating: 0, count: values.count)
        for r in 0..<rows { for c in 0..<columns { out[c * rows + r] = values[r * columns + c] } }
        return Tensor(shape: [columns, rows], values: out)
    }

    static func hadamard(_ a: Tensor, _ b: Tensor) -> Tensor {
        let x = a.scalars, y = b.scalars
        return Tensor(shape: [x.count], values: (0..<x.count).map { x[$0] * y[$0] })
    }

    /// w1 [a, b] ⊗ w2 [c, d, kl] → [a·c, b·d, kl] (torch.kron with w1 broadcast over the kernel).
    static func kronecker(_ w1: Tensor, _ w2: Tensor) -> Tensor {
        let (a, b) = (w1.shape[0], w1.shape[1])
        let (c, d, kl) = (w2.shape[0], w2.shape[1], w2.shape[2])
        let x = w1.scalars, y = w2.scalars
        var out = [Float](repeating: 0, count: a * c * b * d * kl)
        for i in 0..<a { for j in 0..<b {
            let v = x[i * b + j]
            for i2 in 0..<c { for j2 in 0..<d {
                let row = i * c + i2, column = j * d + j2
                let dst = (row * (b * d) + column) * kl, src = (i2 * d + j2) * kl
                for k in 0..<kl { out[dst + k] = v * y[src + k] }
            } }
        } }
        return Tensor(shape: [a * c, b * d, kl], values: out)
    }
}
