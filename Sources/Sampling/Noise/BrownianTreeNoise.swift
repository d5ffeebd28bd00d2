import Foundation
import Tensor

/// Noise for SDE samplers from a Brownian motion, as k-diffusion's / diffusers'
/// `BrownianTreeNoiseSampler` draws it: torchsde's `BrownianInterval` (halfway tree,
/// tol 1e-6, pool size 24) over [sigma_min, sigma_max], queried for W(next) - W(sigma) and
/// normalised by sqrt(|sigma - next|). Same seed -> same noise regardless of step count
/// subdivisions, which is why A1111 and diffusers use it for DPM++ SDE.
///
/// Node seeds come from numpy's SeedSequence(entropy, spawn_key=(path, depth)); each node's
/// normal draw is `torch.randn(shape, generator=Generator(device).manual_seed(seed))`, with
/// the generator family chosen by `rng` (CPU for diffusers, CUDA for A1111 on a GPU).
/// Noise over a sigma interval, for SDE samplers (see BrownianTreeNoise).
public protocol IntervalNoise: AnyObject {
    /// Standard-normal noise for the move from `sigma` to `next` (float32 values, as the
    /// scheduler's tensors hold them).
    func noise(from sigma: Float, to next: Float) -> Tensor
}

public final class BrownianTreeNoise: IntervalNoise {
    private let trees: [BrownianInterval]
    private let batched: Bool
    private let shape: [Int]

    /// - Parameters:
    ///   - seeds: one seed: one tree over the whole `shape` (diffusers' `noise_sampler_seed`);
    ///     one seed per batch element: one tree per image (A1111's per-image seeds).
    public init(sigmaMin: Double, sigmaMax: Double, shape: [Int], seeds: [UInt64], rng: RNGKind = .cpu) {
        precondition(!seeds.isEmpty, "BrownianTreeNoise needs a seed")
        // diffusers passes the bounds through float32 tensors.
        let lo = Double(Float(min(sigmaMin, sigmaMax))), hi = Double(Float(max(sigmaMin, sigmaMax)))
        batched = seeds.count > 1 && seeds.count == shape.first
        self.shape = shape
        let treeShape = batched ? Array(shape.dropFirst()) : shape
        trees = (batched ? seeds : [seeds[0]]).map {
            BrownianInterval(t0: lo, t1: hi, shape: treeShape, entropy: $0, rng: rng)
        }
    }

    /// Convenience: the bounds diffusers' DPMSolverSDEScheduler uses (smallest non-zero and
    /// largest sigma of the full schedule).
    public convenience init(plan: SamplingPlan, shape: [Int], seeds: [UInt64], rng: RNGKind = .cpu) {
        let positive = plan.fullSigmas.filter { $0 > 0 }
        self.init(sigmaMin: positive.min() ?? 0, sigmaMax: positive.max() ?? 1, shape: shape, seeds: seeds, rng: rng)
    }

    public func noise(from sigma: Float, to next: Float) -> Tensor {
        let (a, b, sign): (Float, Float, Float) = sigma < next ? (sigma, next, 1) : (next, sigma, -1)
        let parts = trees.map { $0.increment(from: Double(a), to: Double(b)) }
        var w = parts.count == 1 ? parts[0].reshaped(shape) : concat(parts.map { $0.reshaped([1] + $0.shape) }, axis: 0)
        // Constructed with t0 < t1 (sign +1), queried downwards (-1) in sampling.
        if sign < 0 { w = w * Float(-1) }
        return w.divided(by: (b - a).magnitude.squareRoot())
    }
}

/// torchsde's BrownianInterval with `halfway_tree=True`, no Levy area.
final class BrownianInterval {
    private let start: Double, end: Double
    private let shape: [Int]
    private let entropy: UInt64
    private let rng: RNGKind
    private let rootW: Tensor
    /// W of recently used nodes keyed by (depth, path); values are pure functions of the path.
    private var cache: [NodeID: Tensor] = [:]
    private static let cacheLimit = 64
    private static let poolSize = 24

    struct NodeID: Hashable { let depth: Int; let key: UInt64 }
    struct Node { let start: Double; let end: Double; let id: NodeID }

    init(t0: Double, t1: Double, shape: [Int], entropy: UInt64, rng: RNGKind) {
        start = Self.round6(t0)
        end = Self.round6(t1)
        self.shape = shape
        self.entropy = entropy
        self.rng = rng
        let seed = NumpySeedSequence(entropy: entropy, poolSize: Self.poolSize).generateState(3)[0]
        rootW = rng.makeGenerator(seed: UInt64(seed)).randn(shape) * Float((t1 - t0).squareRoot())
    }

    /// W(tb) - W(ta), both clamped to the interval.
    func increment(from ta: Double, to tb: Double) -> Tensor {
        let a = Self.round6(min(max(ta, start), end)), b = Self.round6(min(max(tb, start), end))
        if a == b { return Tensor.zeros(shape) }
        var nodes: [Node] = []
        collect(Node(start: start, end: end, id: NodeID(depth: 0, key: 0)), a, b, into: &nodes)
        var w = self.w(of: nodes[0])
        for node in nodes.dropFirst() { w = w + self.w(of: node) }
        return w
    }

    /// torchsde's `_loc`: the canonical halfway subdivision covering [ta, tb].
    private func collect(_ node: Node, _ ta: Double, _ tb: Double, into out: inout [Node]) {
        if ta == node.start && tb == node.end { out.append(node); return }
        let mid = Self.round6(0.5 * (node.end + node.start))
        // The 1e-6 grid makes the halving terminate; a degenerate split would loop forever.
        guard mid > node.start, mid < node.end, node.id.depth < 62 else { out.append(node); return }
        let (left, right) = children(of: node, mid: mid)
        if tb <= mid { collect(left, ta, tb, into: &out) }
        else if ta >= mid { collect(right, ta, tb, into: &out) }
        else {
            collect(left, ta, mid, into: &out)
            collect(right, mid, tb, into: &out)
        }
    }

    private func children(of node: Node, mid: Double) -> (Node, Node) {
        let depth = node.id.depth + 1
        return (Node(start: node.start, end: mid, id: NodeID(depth: depth, key: node.id.key << 1)),
                Node(start: mid, end: node.end, id: NodeID(depth: depth, key: node.id.key << 1 | 1)))
    }

    /// W over a node: the root's draw, then Brownian bridges down the path.
    private func w(of node: Node) -> Tensor {
        if node.id.depth == 0 { return rootW }
        if let hit = cache[node.id] { return hit }
        // Rebuild the parent from the path bits (a parent's span halves down from the root).
        var parent = Node(start: start, end: end, id: NodeID(depth: 0, key: 0))
        for level in stride(from: node.id.depth - 1, to: 0, by: -1) {
            let bit = (node.id.key >> UInt64(level)) & 1
            let mid = Self.round6(0.5 * (parent.end + parent.start))
            let (l, r) = children(of: parent, mid: mid)
            parent = bit == 0 ? l : r
        }
        let parentW = w(of: parent)
        let mid = Self.round6(0.5 * (parent.end + parent.start))
        let hReciprocal = 1 / (parent.end - parent.start)
        let leftDiff = mid - parent.start, rightDiff = parent.end - mid
        let seeds = NumpySeedSequence(entropy: entropy, spawnKey: [parent.id.key, UInt64(parent.id.depth)],
                                      poolSize: Self.poolSize).generateState(4)
        let noise = rng.makeGenerator(seed: UInt64(seeds[0])).randn(shape)
        let mean = (parentW * Float(leftDiff)) * Float(hReciprocal)
        let leftW = mean + noise * Float((leftDiff * rightDiff * hReciprocal).squareRoot())
        let result = node.id.key & 1 == 0 ? leftW : parentW - leftW
        if cache.count >= Self.cacheLimit { cache.removeAll(keepingCapacity: true) }
        cache[node.id] = result
        return result
    }

    /// Python's round(x, 6): correctly rounded to 6 decimals (ties to even on the exact value).
    static func round6(_ x: Double) -> Double {
        Double(String(format: "%.6f", x)) ?? x
    }
}
