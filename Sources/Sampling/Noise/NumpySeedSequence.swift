/// numpy's `SeedSequence` (NEP 19 entropy pool, hash-mixed uint32 words), which torchsde uses
/// to derive the seed of every node of its Brownian tree from one entropy value.
struct NumpySeedSequence {
    private static let initA: UInt32 = 0x43B0_D7E5, multA: UInt32 = 0x931E_8875
    private static let initB: UInt32 = 0x8B51_F9DD, multB: UInt32 = 0x58F3_8DED
    private static let mixMultL: UInt32 = 0xCA01_F9DD, mixMultR: UInt32 = 0x4973_F715
    private static let xshift: UInt32 = 16

    private(set) var pool: [UInt32]

    /// - Parameters:
    ///   - entropy: the run entropy (any non-negative integer; split into 32-bit words).
    ///   - spawnKey: the spawn key integers (each split into words and concatenated).
    init(entropy: UInt64, spawnKey: [UInt64] = [], poolSize: Int = 4) {
        var run = Self.words(entropy)
        let spawn = spawnKey.flatMap(Self.words)
        if !spawn.isEmpty && run.count < poolSize {
            // numpy pads the run entropy so spawn keys cannot collide with plain entropy.
            run += [UInt32](repeating: 0, count: poolSize - run.count)
        }
        let entropyWords = run + spawn
        var mixer = [UInt32](repeating: 0, count: poolSize)
        var hashConst = Self.initA
        func hashmix(_ value: UInt32) -> UInt32 {
            var v = value ^ hashConst
            hashConst = hashConst &* Self.multA
            v = v &* hashConst
            return v ^ (v >> Self.xshift)
        }
        func mix(_ x: UInt32, _ y: UInt32) -> UInt32 {
            let r = Self.mixMultL &* x &- Self.mixMultR &* y
            return r ^ (r >> Self.xshift)
        }
        for i in 0..<poolSize { mixer[i] = hashmix(i < entropyWords.count ? entropyWords[i] : 0) }
        for src in 0..<poolSize {
            for dst in 0..<poolSize where src != dst {
                mixer[dst] = mix(mixer[dst], hashmix(mixer[src]))
            }
        }
        if entropyWords.count > poolSize {
            for src in poolSize..<entropyWords.count {
                for dst in 0..<poolSize { mixer[dst] = mix(mixer[dst], hashmix(entropyWords[src])) }
            }
        }
        pool = mixer
    }

    /// `generate_state(n, dtype=uint32)`.
    func generateState(_ n: Int) -> [UInt32] {
        var hashConst = Self.initB
        return (0..<n).map { i in
            var v = pool[i % pool.count] ^ hashConst
            hashConst = hashConst &* Self.multB
            v = v &* hashConst
            return v ^ (v >> Self.xshift)
        }
    }

    /// numpy's `_int_to_uint32_array`: little-endian 32-bit words, `[0]` for zero.
    private static func words(_ n: UInt64) -> [UInt32] {
        if n == 0 { return [0] }
        var out: [UInt32] = []
        var v = n
        while v > 0 {
            out.append(UInt32(truncatingIfNeeded: v))
            v >>= 32
        }
        return out
    }
}
