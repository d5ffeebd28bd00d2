import Foundation
import Tensor
import TensorKernels

func softmaxExpRow(_ row: UnsafeMutablePointer<Float>, _ count: Int) -> Float { tk_softmax_exp_row(row, nil, count) }

// Release-mode micro benchmarks of the Tensor hot paths (not tests: timings on a shared machine drift).
//   swift build -c release --product tensor-bench && .build/release/tensor-bench [group...]
// Groups: sgemm conv attention pointwise layout vae winograd bf16 (default: all but vae, winograd, bf16). BENCH_THREADS=n sets threads.
// Each line shows the best wall time of several runs, the process CPU time of that run (user + system:
// about threads x wall when the cores are ours, less when other processes take them) and GFLOP/s.

/// Process CPU time, to tell our cost from other load on a shared machine.
func cpuSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
        + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
}

struct Timing {
    var wall: Double
    var cpu: Double
}

/// Best wall time of `repeats` runs after one warm-up, with that run's CPU time.
func best(_ repeats: Int = 7, _ body: () -> Void) -> Timing {
    body()
    var result = Timing(wall: .infinity, cpu: 0)
    for _ in 0..<repeats {
        let start = DispatchTime.now().uptimeNanoseconds
        let cpuStart = cpuSeconds()
        body()
        let wall = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        if wall < result.wall { result = Timing(wall: wall, cpu: cpuSeconds() - cpuStart) }
    }
    return result
}

/// Uniform values in [-scale, scale) from a fixed-seed LCG (fast; the values do not matter).
func random(_ shape: [Int], scale: Float = 1) -> Tensor {
    var state: UInt64 = 0x9E37_79B9_7F4A_7C15
    var tensor = Tensor(shape: shape)
    tensor.withUnsafeMutableBufferPointer { buffer in
        for i in buffer.indices {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            buffer[i] = (Float(state >> 40) / Float(1 << 24) * 2 - 1) * scale
        }
    }
    return tensor
}

func report(_ name: String, _ timing: Timing, flops: Double? = nil) {
    var line = name.padding(toLength: 44, withPad: " ", startingAt: 0)
    line += String(format: " %9.2f ms", timing.wall * 1000)
    if let flops { line += String(format: " %7.1f GFLOP/s", flops / timing.wall / 1e9) }
    line += String(format: "   (cpu %.2f ms)", timing.cpu * 1000)
    print(line)
}

/// C = A B for square n x n matrices through `Gemm.multiply`.
func squareProduct(_ a: Tensor, _ b: Tensor, into c: inout Tensor, n: Int) {
    c.withUnsafeMutableBufferPointer { out in
        guard let target = out.baseAddress else { return }
        Gemm.multiply(transposeA: false, transposeB: false, m: n, n: n, k: n,
                      a: a.storage.pointer, lda: n, b: b.storage.pointer, ldb: n, c: target, ldc: n)
    }
}

let decision = OpenBLASRuntime.ensureFastKernel(arguments: CommandLine.arguments)
let threads = Int(ProcessInfo.processInfo.environment["BENCH_THREADS"] ?? "") ?? ComputeConfig.defaultThreads
ComputeConfig.setThreads(threads)
print("OpenBLAS core \(OpenBLASRuntime.corename()) (\(decision)); CPU class \(KernelClass.currentCPU); threads \(threads)")
let requested = Set(CommandLine.arguments.dropFirst())
func wants(_ group: String, byDefault: Bool = true) -> Bool {
    requested.isEmpty ? byDefault : requested.contains(group)
}

if wants("sgemm") {
    let n = 2048
    let a = random([n, n]), b = random([n, n])
    var c = Tensor.zeros([n, n])
    report("sgemm 2048^3 (pool-split)", best { squareProduct(a, b, into: &c, n: n) }, flops: 2.0 * Double(n * n * n))
}

if wants("conv") {
    let x = random([2, 320, 64, 64]), w = random([320, 320, 3, 3], scale: 0.02), b = random([320])
    report("conv2d 3x3 [2,320,64,64] -> 320", best { _ = conv2d(x, weight: w, bias: b, padding: 1) },
           flops: 2.0 * 2 * 320 * 4096 * 2880)
    let w1 = random([320, 320, 1, 1], scale: 0.05)
    report("conv2d 1x1 [2,320,64,64] -> 320", best { _ = conv2d(x, weight: w1, bias: b) },
           flops: 2.0 * 2 * 320 * 4096 * 320)
    report("conv2d 3x3 s2 [2,320,64,64] -> 320", best { _ = conv2d(x, weight: w, bias: b, stride: 2, padding: 1) },
           flops: 2.0 * 2 * 320 * 1024 * 2880)
    let xs = random([2, 1280, 8, 8]), ws = random([1280, 1280, 3, 3], scale: 0.01), bs = random([1280])
    report("conv2d 3x3 [2,1280,8,8] -> 1280", best { _ = conv2d(xs, weight: ws, bias: bs, padding: 1) },
           flops: 2.0 * 2 * 1280 * 64 * 1280 * 9)
    let xt = random([2, 1280, 4, 4])
    report("conv2d 3x3 [2,1280,4,4] -> 1280", best { _ = conv2d(xt, weight: ws, bias: bs, padding: 1) },
           flops: 2.0 * 2 * 1280 * 16 * 1280 * 9)
    let w1s = random([1280, 2560, 1, 1], scale: 0.02), xp = random([2, 2560, 8, 8])
    report("conv2d 1x1 [2,2560,8,8] -> 1280", best { _ = conv2d(xp, weight: w1s, bias: bs) },
           flops: 2.0 * 2 * 1280 * 64 * 2560)
}

if wants("attention") {
    // Every kernel path this CPU runs, in this one process (the detected one is used by the daemon).
    let q = random([2, 4096, 320]), k = random([2, 4096, 320]), v = random([2, 4096, 320])
    let kc = random([2, 77, 320]), vc = random([2, 77, 320])
    let q64 = random([2, 1024, 640]), k64 = random([2, 1024, 640])
    // Label suffix: w = 16-lane tiles, a = AVX2 8-lane tiles; * marks the path the daemon detects.
    for (path, name) in [(Int32(TK_ATTENTION_PATH_WIDE), "w"), (Int32(TK_ATTENTION_PATH_AVX2), "a")]
    where tk_attention_path_available(path) != 0 {
        tk_attention_path_force(path)
        let tag = path == tk_attention_path_detected() ? "\(name)*" : name
        report("attention self 2x4096 8x40 \(tag)", best(3) { _ = attention(query: q, key: k, value: v, heads: 8) },
               flops: 4.0 * 2 * 8 * 4096 * 4096 * 40)
        report("attention self 2x1024 10x64 \(tag)", best(3) { _ = attention(query: q64, key: k64, value: k64, heads: 10) },
               flops: 4.0 * 2 * 10 * 1024 * 1024 * 64)
        report("attention cross 2x4096x77 8x40 \(tag)", best { _ = attention(query: q, key: kc, value: vc, heads: 8) },
               flops: 4.0 * 2 * 8 * 4096 * 77 * 40)
    }
    tk_attention_path_force(-1)
}

if wants("pointwise") {
    let x = random([2, 320, 64, 64], scale: 3), g = random([320]), b = random([320])
    report("groupNorm [2,320,64,64] g32", best { _ = groupNorm(x, groups: 32, weight: g, bias: b, eps: 1e-5) })
    report("silu [2,320,64,64]", best { _ = silu(x) })
    report("gelu [2,320,64,64]", best { _ = gelu(x) })
    report("add [2,320,64,64]", best { _ = x + x })
    let h = random([2, 4096, 320])
    report("layerNorm [2,4096,320]", best { _ = layerNorm(h, weight: g, bias: b, eps: 1e-5) })
    let ff = random([2, 4096, 2560], scale: 3)
    report("geglu [2,4096,2560]", best { _ = geglu(ff) })
    let wl = random([2560, 320], scale: 0.05), bl = random([2560])
    report("linear [8192,320] x [2560,320]^T", best { _ = linear(h, weight: wl, bias: bl) },
           flops: 2.0 * 8192 * 320 * 2560)
    let scores = random([2, 4096, 77])
    report("softmax [2,4096,77]", best { _ = softmax(scores) })
    let small = random([2, 1280, 16, 16])
    report("upsample [2,1280,16,16]", best { _ = upsampleNearest2x(small) })
}

if wants("linear") {
    // The UNet's level-1 transformer projections at 512x512, batch 2 (8192 tokens).
    for (rows, inFeatures, outFeatures) in [(8192, 320, 320), (8192, 320, 2560), (8192, 1280, 320),
                                           (2048, 640, 640), (512, 1280, 1280), (154, 768, 320)] {
        let x = random([rows, inFeatures]), w = random([outFeatures, inFeatures], scale: 0.05)
        let b = random([outFeatures])
        report("linear [\(rows),\(inFeatures)] -> \(outFeatures)", best { _ = linear(x, weight: w, bias: b) },
               flops: 2.0 * Double(rows * inFeatures * outFeatures))
    }
}

if wants("bf16", byDefault: false) {
    // linearBF16 (bf16 kernel path in use: TK_BF16 isa printed) against fp32 linear on the same shapes; BENCH_ROWS
    // shrinks the token count (default 2048) so the group stays short on a shared machine.
    let rows = ProcessInfo.processInfo.environment["BENCH_ROWS"].flatMap { Int($0) } ?? 2048
    print("bf16 isa \(tk_bf16_isa()) (0 scalar, 1 avx512_bf16); cpu flags: \(PrecisionSupport.detect(requestAMX: false).cpuFlags.joined(separator: " "))")
    for (inFeatures, outFeatures) in [(320, 320), (320, 1280), (1280, 320), (768, 320)] {
        let x = random([rows, inFeatures]), w = random([outFeatures, inFeatures], scale: 0.05), b = random([outFeatures])
        let packed = bf16Weights(w)
        let flops = 2.0 * Double(rows * inFeatures * outFeatures)
        report("linear fp32 [\(rows),\(inFeatures)] -> \(outFeatures)", best(3) { _ = linear(x, weight: w, bias: b) }, flops: flops)
        report("linear bf16 [\(rows),\(inFeatures)] -> \(outFeatures)", best(3) { _ = linearBF16(x, weight: packed, bias: b) }, flops: flops)
    }
}

if wants("attention-chunks", byDefault: false) {
    // One head's query chunk, single-threaded: the three steps of `attention`, per chunk size.
    ComputeConfig.setThreads(1)
    let length = 4096, headDim = 40, width = 320
    let q = random([length, width]), k = random([length, width]), v = random([length, width])
    var out = Tensor.zeros([length, width])
    for rows in [64, 128, 256, 512, 1024] {
        var scores = Tensor.zeros([rows, length])
        let timing = best(5) {
            for first in stride(from: 0, to: length, by: rows) {
                scores.withUnsafeMutableBufferPointer { s in
                    out.withUnsafeMutableBufferPointer { o in
                        guard let sp = s.baseAddress, let op = o.baseAddress else { return }
                        Gemm.serial(transposeA: false, transposeB: true, m: rows, n: length, k: headDim, alpha: 0.15,
                                    a: q.storage.pointer + first * width, lda: width, b: k.storage.pointer, ldb: width,
                                    c: sp, ldc: length)
                        for r in 0..<rows { _ = softmaxExpRow(sp + r * length, length) }
                        Gemm.serial(transposeA: false, transposeB: false, m: rows, n: headDim, k: length,
                                    a: sp, lda: length, b: v.storage.pointer, ldb: width, c: op + first * width, ldc: width)
                    }
                }
            }
        }
        report("one head 4096x4096x40, chunks of \(rows)", timing, flops: 4.0 * 4096 * 4096 * 40)
    }
    ComputeConfig.setThreads(threads)
}

if wants("attention-phases", byDefault: false) {
    // One head, single-threaded, query chunks of 256: the three phases of `attention` timed apart.
    ComputeConfig.setThreads(1)
    let length = 4096, headDim = 40, width = 320, rows = 256
    let q = random([length, width]), k = random([length, width]), v = random([length, width])
    var out = Tensor.zeros([length, width])
    var scores = Tensor.zeros([rows, length])
    scores.withUnsafeMutableBufferPointer { s in
        out.withUnsafeMutableBufferPointer { o in
            guard let sp = s.baseAddress, let op = o.baseAddress else { return }
            let chunks = length / rows
            report("QK^T (\(chunks) chunks)", best(5) {
                for c in 0..<chunks {
                    Gemm.serial(transposeA: false, transposeB: true, m: rows, n: length, k: headDim, alpha: 0.15,
                                a: q.storage.pointer + c * rows * width, lda: width, b: k.storage.pointer, ldb: width,
                                c: sp, ldc: length)
                }
            }, flops: 2.0 * 4096 * 4096 * 40)
            report("exp rows", best(5) {
                for _ in 0..<chunks { for r in 0..<rows { _ = softmaxExpRow(sp + r * length, length) } }
            })
            report("PV", best(5) {
                for c in 0..<chunks {
                    Gemm.serial(transposeA: false, transposeB: false, m: rows, n: headDim, k: length,
                                a: sp, lda: length, b: v.storage.pointer, ldb: width, c: op + c * rows * width, ldc: width)
                }
            }, flops: 2.0 * 4096 * 4096 * 40)
            report("PV as (V^T P^T)^T", best(5) {
                for c in 0..<chunks {
                    Gemm.serial(transposeA: true, transposeB: true, m: headDim, n: rows, k: length,
                                a: v.storage.pointer, lda: width, b: sp, ldb: length, c: op + c * rows * width, ldc: rows)
                }
            }, flops: 2.0 * 4096 * 4096 * 40)
        }
    }
    ComputeConfig.setThreads(threads)
}

if wants("gemm-shapes", byDefault: false) {
    // Single-threaded products of conv-chunk shapes, in both orientations.
    for (m, n, k) in [(128, 1536, 1152), (1536, 128, 1152), (320, 728, 2880), (728, 320, 2880)] {
        let a = random([m, k]), b = random([k, n])
        var c = Tensor.zeros([m, n])
        let timing = best(5) {
            c.withUnsafeMutableBufferPointer { out in
                guard let target = out.baseAddress else { return }
                Gemm.serial(transposeA: false, transposeB: false, m: m, n: n, k: k,
                            a: a.storage.pointer, lda: k, b: b.storage.pointer, ldb: n, c: target, ldc: n)
            }
        }
        report("serial sgemm \(m)x\(n)x\(k)", timing, flops: 2.0 * Double(m * n * k))
    }
}

if wants("layout") {
    let x = random([2, 320, 4096])
    report("permuted [2,320,4096] -> [0,2,1]", best { _ = x.permuted([0, 2, 1]) })
    let z = random([2, 4096, 8, 40])
    report("permuted [2,4096,8,40] -> [0,2,1,3]", best { _ = z.permuted([0, 2, 1, 3]) })
    let a = random([2, 320, 64, 64]), b = random([2, 320, 64, 64])
    report("concat axis 1 2x[2,320,64,64]", best { _ = concat([a, b], axis: 1) })
}

if wants("alloc", byDefault: false) {
    for shape in [[2, 320, 64, 64], [2, 4096, 1280], [2, 640, 64, 64], [2, 4096, 2560]] {
        let mb = Double(shape.reduce(1, *) * 4) / 1e6
        report("fill new tensor \(shape) (\(Int(mb)) MB)", best { _ = Tensor(shape: shape, repeating: 1) })
    }
    var existing = Tensor(shape: [2, 4096, 2560])
    report("fill existing [2,4096,2560]", best {
        existing.withUnsafeMutableBufferPointer { $0.update(repeating: 2) }
    })
}

if wants("winograd", byDefault: false) {
    // Every 3x3 stride-1 convolution shape of the SD 1.5 UNet (batch 2) at 256² and 512², and the VAE's
    // biggest, through im2col and through Winograd F(4x4, 3x3) and F(2x2, 3x3) (where the transformed weights fit). GFLOP/s counts direct-convolution FLOPs.
    let shapes: [(batch: Int, channels: Int, out: Int, side: Int)] = [
        (2, 320, 320, 64), (2, 960, 320, 64), (2, 640, 320, 64), (2, 4, 320, 64),
        (2, 320, 640, 32), (2, 640, 640, 32), (2, 1920, 640, 32), (2, 1280, 640, 32), (2, 960, 640, 32),
        (2, 640, 1280, 16), (2, 1280, 1280, 16), (2, 2560, 1280, 16), (2, 1920, 1280, 16),
        (2, 1280, 1280, 8), (2, 2560, 1280, 8), (2, 320, 4, 64),
        (1, 512, 512, 64), (1, 512, 512, 128), (1, 256, 256, 256), (1, 128, 128, 512),
    ]
    let saved = (WinogradConvolution.minimumTiles4x4, WinogradConvolution.minimumTiles2x2)
    for shape in shapes {
        let x = random([shape.batch, shape.channels, shape.side, shape.side])
        let w = random([shape.out, shape.channels, 3, 3], scale: 0.02), b = random([shape.out])
        let flops = 2.0 * Double(shape.batch * shape.out * shape.side * shape.side * shape.channels * 9)
        let name = "[\(shape.batch),\(shape.channels),\(shape.side),\(shape.side)] -> \(shape.out)"
        let repeats = flops > 2e10 ? 2 : 5
        (WinogradConvolution.minimumTiles4x4, WinogradConvolution.minimumTiles2x2) = (Int.max, Int.max)
        report("im2col   " + name, best(repeats) { _ = conv2d(x, weight: w, bias: b, padding: 1) }, flops: flops)
        (WinogradConvolution.minimumTiles4x4, WinogradConvolution.minimumTiles2x2) = (1, 1)
        for variant in [WinogradConvolution.Variant.f4x4, .f2x2] {
            WinogradConvolution.forcedVariant = variant
            report("\(variant)    " + name, best(repeats) { _ = conv2d(x, weight: w, bias: b, padding: 1) }, flops: flops)
        }
        WinogradConvolution.forcedVariant = nil
    }
    (WinogradConvolution.minimumTiles4x4, WinogradConvolution.minimumTiles2x2) = saved
}

if wants("vae", byDefault: false) {
    let x = random([1, 128, 512, 512]), w = random([128, 128, 3, 3], scale: 0.02), b = random([128])
    report("conv2d 3x3 [1,128,512,512] -> 128", best(2) { _ = conv2d(x, weight: w, bias: b, padding: 1) },
           flops: 2.0 * 128 * 262144 * 1152)
    report("groupNorm [1,128,512,512] g32", best { _ = groupNorm(x, groups: 32, weight: b, bias: b, eps: 1e-6) })
}
