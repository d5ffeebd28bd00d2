/// Seed conventions shared by every operation that samples.
public enum Seeds {
    /// A request's seed: nil or negative (A1111's -1) means a fresh random 32-bit seed, which
    /// the caller must report back so the image can be reproduced.
    public static func resolve<G: RandomNumberGenerator>(_ requested: Int64?, using rng: inout G) -> UInt64 {
        if let s = requested, s >= 0 { return UInt64(s) }
        return UInt64(UInt32.random(in: .min ... .max, using: &rng))
    }

    public static func resolve(_ requested: Int64?) -> UInt64 {
        var rng = SystemRandomNumberGenerator()
        return resolve(requested, using: &rng)
    }

    /// Seeds of a batch: seed, seed + 1, ... (A1111 and diffusers' per-image generators).
    public static func batch(from seed: UInt64, count: Int) -> [UInt64] {
        (0..<max(count, 0)).map { seed &+ UInt64($0) }
    }
}

extension RNGKind {
    /// Noise for a batch with one generator per image (see PerSampleNoise); for a single
    /// image it is just that image's generator.
    public func makeNoise(seeds: [UInt64]) -> NoiseSource {
        if seeds.count == 1 { return makeGenerator(seed: seeds[0]) }
        return PerSampleNoise(generators: seeds.map { makeGenerator(seed: $0) })
    }
}
