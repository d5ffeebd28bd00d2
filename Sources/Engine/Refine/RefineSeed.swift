import Imaging

/// Which pass of a refine a window belongs to; part of its seed so the passes never share noise.
public enum RefinePass: UInt64, Sendable {
    /// The main pass over the tile grid.
    case tiles = 0
    /// Seam fix over the bands centred on vertical seams (between grid columns).
    case verticalSeams = 1
    /// Seam fix over the bands centred on horizontal seams (between grid rows).
    case horizontalSeams = 2
}

/// Per-window seeds of a refine, a pure function of (base seed, pass, column, row) — never of the processing
/// order — so any tile can be redone alone with exactly the noise it had in the full job.
///
/// Derivation (part of the reproducibility contract, do not change):
///     h0 = SplitMix64(seed: base).next()
///     h1 = SplitMix64(seed: h0 ^ pass).next()         pass: tiles 0, vertical seams 1, horizontal seams 2
///     h2 = SplitMix64(seed: h1 ^ UInt64(column)).next()
///     seed = SplitMix64(seed: h2 ^ UInt64(row)).next()
/// Chaining one mix per component (rather than packing them into one word) keeps distinct inputs from
/// colliding by construction of the packing. For the seam passes, `column`/`row` are (seam index, window
/// index along the seam) as documented on `TileRefiner`. The result seeds the pipeline's generator exactly as
/// a request's `seed` does (torch.manual_seed(seed) on the reference side).
public enum RefineSeed {
    public static func derive(base: UInt64, pass: RefinePass = .tiles, column: Int, row: Int) -> UInt64 {
        func mix(_ value: UInt64) -> UInt64 {
            var generator = SplitMix64(seed: value)
            return generator.next()
        }
        let h0 = mix(base)
        let h1 = mix(h0 ^ pass.rawValue)
        let h2 = mix(h1 ^ UInt64(truncatingIfNeeded: column))
        return mix(h2 ^ UInt64(truncatingIfNeeded: row))
    }
}
