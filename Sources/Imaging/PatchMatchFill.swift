import Glibc

/// Content-aware hole filling without a model: multi-scale PatchMatch (Barnes et al. 2009) nearest-neighbour
/// search with patch voting (Wexler et al. 2007), coarse to fine. Every value it writes is an average of known
/// pixels, so the fill stays within the image's own colours; known pixels are never changed.
/// Deterministic for a given seed.
public struct PatchMatchOptions: Equatable, Sendable {
    /// Patches are (2r+1)² pixels.
    public var patchRadius: Int
    /// Search-and-vote rounds per pyramid level.
    public var iterations: Int
    public var seed: UInt64
    /// Polled every few hundred patches and rows; once it returns true the fill stops with
    /// `ImagingError.cancelled`. A fill on a multi-megapixel canvas runs for minutes, so a job must be able to
    /// stop it well within a second. Not part of equality (it does not change the result).
    public var shouldCancel: (@Sendable () -> Bool)?

    public init(patchRadius: Int = 3, iterations: Int = 4, seed: UInt64 = 0,
                shouldCancel: (@Sendable () -> Bool)? = nil) {
        self.patchRadius = max(1, patchRadius)
        self.iterations = max(1, iterations)
        self.seed = seed
        self.shouldCancel = shouldCancel
    }

    public static func == (a: PatchMatchOptions, b: PatchMatchOptions) -> Bool {
        a.patchRadius == b.patchRadius && a.iterations == b.iterations && a.seed == b.seed
    }
}

/// Polls a cancellation closure cheaply: only every `interval` calls to `tick`.
struct CancellationPoll {
    let shouldCancel: (@Sendable () -> Bool)?
    let interval: Int
    private var count = 0

    init(_ shouldCancel: (@Sendable () -> Bool)?, every interval: Int = 256) {
        self.shouldCancel = shouldCancel
        self.interval = interval
    }

    /// Throws `ImagingError.cancelled` when the closure says so (checked every `interval` ticks).
    mutating func tick() throws {
        count += 1
        guard count >= interval else { return }
        count = 0
        try now()
    }

    /// Checks at once (between phases).
    func now() throws {
        if let shouldCancel, shouldCancel() { throw ImagingError.cancelled(operation: "PatchMatch fill") }
    }
}

/// One pyramid level: interleaved float colour, and which pixels are holes.
struct PatchLevel {
    let width: Int
    let height: Int
    let channels: Int
    var values: [Float]
    let hole: [Bool]

    /// Half size: a coarse pixel averages its known children and is a hole only if all children are.
    func downsampled(poll: inout CancellationPoll) throws -> PatchLevel {
        let w = (width + 1) / 2, h = (height + 1) / 2, c = channels
        var values = [Float](repeating: 0, count: w * h * c)
        var hole = [Bool](repeating: true, count: w * h)
        for y in 0 ..< h {
            try poll.tick()
            for x in 0 ..< w {
                var sum = [Float](repeating: 0, count: c)
                var n: Float = 0
                for dy in 0 ..< 2 {
                    for dx in 0 ..< 2 {
                        let sx = 2 * x + dx, sy = 2 * y + dy
                        guard sx < width, sy < height, !self.hole[sy * width + sx] else { continue }
                        for k in 0 ..< c { sum[k] += self.values[(sy * width + sx) * c + k] }
                        n += 1
                    }
                }
                if n > 0 {
                    hole[y * w + x] = false
                    for k in 0 ..< c { values[(y * w + x) * c + k] = sum[k] / n }
                }
            }
        }
        return PatchLevel(width: w, height: h, channels: c, values: values, hole: hole)
    }
}

struct PatchMatcher {
    var level: PatchLevel
    let r: Int
    var generator: SplitMix64
    /// Centres whose whole patch is inside the image and free of holes.
    let sources: [Int]
    let isSource: [Bool]
    /// Centres whose patch touches a hole (the patches to complete).
    let targets: [Int]
    let isTarget: [Bool]
    var nnf: [Int]
    /// Distance of each target's current match, as of the last search (indexed like `targets`).
    var matchDistance: [Float] = []

    init?(level: PatchLevel, radius: Int, generator: SplitMix64, poll: inout CancellationPoll) throws {
        self.level = level
        r = radius
        self.generator = generator
        let w = level.width, h = level.height
        // Summed-area table of holes to test windows in O(1).
        var sat = [Int](repeating: 0, count: (w + 1) * (h + 1))
        for y in 0 ..< h {
            try poll.tick()
            for x in 0 ..< w {
                sat[(y + 1) * (w + 1) + x + 1] = (level.hole[y * w + x] ? 1 : 0) + sat[y * (w + 1) + x + 1]
                    + sat[(y + 1) * (w + 1) + x] - sat[y * (w + 1) + x]
            }
        }
        func holes(_ x0: Int, _ y0: Int, _ x1: Int, _ y1: Int) -> Int {
            let a = max(0, x0), b = max(0, y0), c = min(w, x1), d = min(h, y1)
            guard a < c, b < d else { return 0 }
            return sat[d * (w + 1) + c] - sat[b * (w + 1) + c] - sat[d * (w + 1) + a] + sat[b * (w + 1) + a]
        }
        var sources: [Int] = [], isSource = [Bool](repeating: false, count: w * h), targets: [Int] = []
        var isTarget = [Bool](repeating: false, count: w * h)
        for y in 0 ..< h {
            try poll.tick()
            for x in 0 ..< w {
                let inside = x >= radius && y >= radius && x + radius < w && y + radius < h
                let count = holes(x - radius, y - radius, x + radius + 1, y + radius + 1)
                if inside && count == 0 { sources.append(y * w + x); isSource[y * w + x] = true }
                if count > 0 { targets.append(y * w + x); isTarget[y * w + x] = true }
            }
        }
        guard !sources.isEmpty else { return nil }
        self.sources = sources
        self.isSource = isSource
        self.targets = targets
        self.isTarget = isTarget
        var g = generator
        nnf = [Int](repeating: 0, count: w * h)
        for t in targets { nnf[t] = sources[Int(g.next() % UInt64(sources.count))] }
        self.generator = g
    }

    /// Sum of squared differences between the patches at `a` (target, may leave the image) and `b` (source),
    /// stopping once above `bound`.
    func distance(_ a: Int, _ b: Int, bound: Float) -> Float {
        let w = level.width, h = level.height, c = level.channels
        let ax = a % w, ay = a / w, bx = b % w, by = b / w
        var sum: Float = 0
        for dy in -r ... r {
            let y = ay + dy
            guard y >= 0, y < h else { continue }
            for dx in -r ... r {
                let x = ax + dx
                guard x >= 0, x < w else { continue }
                let i = (y * w + x) * c, j = ((by + dy) * w + bx + dx) * c
                for k in 0 ..< c {
                    let d = level.values[i + k] - level.values[j + k]
                    sum += d * d
                }
            }
            if sum > bound { return sum }
        }
        return sum
    }

    mutating func search(forward: Bool, poll: inout CancellationPoll) throws {
        let w = level.width, h = level.height
        let step = forward ? 1 : -1
        if matchDistance.count != targets.count { matchDistance = [Float](repeating: 0, count: targets.count) }
        for n in 0 ..< targets.count {
            try poll.tick()
            let index = forward ? n : targets.count - 1 - n
            let t = targets[index]
            var best = nnf[t]
            var bestDistance = distance(t, best, bound: .infinity)
            let tx = t % w, ty = t / w
            // Propagation: the neighbour's match, shifted by one.
            for (nx, ny) in [(tx - step, ty), (tx, ty - step)] where nx >= 0 && nx < w && ny >= 0 && ny < h {
                guard isTarget[ny * w + nx] else { continue }
                let neighbour = nnf[ny * w + nx]
                let cx = neighbour % w + (tx - nx), cy = neighbour / w + (ty - ny)
                guard cx >= 0, cx < w, cy >= 0, cy < h, isSource[cy * w + cx] else { continue }
                let d = distance(t, cy * w + cx, bound: bestDistance)
                if d < bestDistance { bestDistance = d; best = cy * w + cx }
            }
            // Random search in shrinking windows around the best match.
            var radius = max(w, h)
            while radius >= 1 {
                let bx = best % w, by = best / w
                let cx = bx + Int(generator.next() % UInt64(2 * radius + 1)) - radius
                let cy = by + Int(generator.next() % UInt64(2 * radius + 1)) - radius
                if cx >= 0, cx < w, cy >= 0, cy < h, isSource[cy * w + cx] {
                    let d = distance(t, cy * w + cx, bound: bestDistance)
                    if d < bestDistance { bestDistance = d; best = cy * w + cx }
                }
                radius /= 2
            }
            nnf[t] = best
            matchDistance[index] = bestDistance
        }
    }

    /// Every hole pixel becomes the weighted mean of what the matched patches covering it say it should be; a
    /// patch's weight falls with its match distance (exp(−d / 2σ²), σ² the median distance, as Wexler et al.), so
    /// good matches win over poor ones. With `winnerTakesAll` each pixel instead copies the best-matching patch
    /// that covers it (used last, so the result has no blended, ghosted pixels).
    mutating func vote(winnerTakesAll: Bool = false, poll: inout CancellationPoll) throws {
        let w = level.width, h = level.height, c = level.channels
        // Distances as the last search measured them (votes always follow a search).
        let distances = matchDistance.count == targets.count
            ? matchDistance : targets.map { distance($0, nnf[$0], bound: .infinity) }
        let sorted = distances.sorted()
        let sigma2 = max(sorted.isEmpty ? 1 : sorted[sorted.count / 2], 1e-6)
        var sum = [Float](repeating: 0, count: w * h * c)
        var weight = [Float](repeating: 0, count: w * h)
        var bestDistance = [Float](repeating: .infinity, count: w * h)
        for (i, t) in targets.enumerated() {
            try poll.tick()
            let tx = t % w, ty = t / w, s = nnf[t], sx = s % w, sy = s / w
            let pw = winnerTakesAll ? 1 : exp(-distances[i] / (2 * sigma2))
            for dy in -r ... r {
                let y = ty + dy
                guard y >= 0, y < h else { continue }
                for dx in -r ... r {
                    let x = tx + dx
                    guard x >= 0, x < w, level.hole[y * w + x] else { continue }
                    let j = ((sy + dy) * w + sx + dx) * c, p = y * w + x
                    if winnerTakesAll {
                        guard distances[i] < bestDistance[p] else { continue }
                        bestDistance[p] = distances[i]
                        for k in 0 ..< c { sum[p * c + k] = level.values[j + k] }
                        weight[p] = 1
                    } else {
                        for k in 0 ..< c { sum[p * c + k] += pw * level.values[j + k] }
                        weight[p] += pw
                    }
                }
            }
        }
        for p in 0 ..< w * h where level.hole[p] && weight[p] > 0 {
            for k in 0 ..< c { level.values[p * c + k] = sum[p * c + k] / weight[p] }
        }
    }
}

enum PatchMatchFill {
    /// Fills the holes of `base` in place, coarse to fine. Throws `ImagingError.cancelled` (and returns
    /// nothing) once `options.shouldCancel` says so.
    static func fill(_ base: PatchLevel, options: PatchMatchOptions) throws -> PatchLevel {
        var poll = CancellationPoll(options.shouldCancel)
        try poll.now()
        var pyramid = [base]
        let minimum = 4 * (2 * options.patchRadius + 1)
        while let last = pyramid.last, min(last.width, last.height) / 2 >= minimum, pyramid.count < 10,
              last.hole.contains(true) {
            pyramid.append(try last.downsampled(poll: &poll))
        }
        var generator = SplitMix64(seed: options.seed)
        var previous: PatchLevel?
        for index in stride(from: pyramid.count - 1, through: 0, by: -1) {
            var level = pyramid[index]
            if let coarse = previous {
                // Start from the coarser solution (nearest 2× upsampling) inside the holes.
                for y in 0 ..< level.height {
                    try poll.tick()
                    for x in 0 ..< level.width where level.hole[y * level.width + x] {
                        let cx = min(x / 2, coarse.width - 1), cy = min(y / 2, coarse.height - 1)
                        for k in 0 ..< level.channels {
                            level.values[(y * level.width + x) * level.channels + k] =
                                coarse.values[(cy * coarse.width + cx) * level.channels + k]
                        }
                    }
                }
            } else {
                meanFill(&level)
            }
            if var matcher = try PatchMatcher(level: level, radius: options.patchRadius,
                                              generator: SplitMix64(seed: generator.next()), poll: &poll) {
                for iteration in 0 ..< options.iterations {
                    try matcher.search(forward: iteration % 2 == 0, poll: &poll)
                    try matcher.vote(poll: &poll)
                }
                if index == 0 {
                    try matcher.search(forward: options.iterations % 2 == 0, poll: &poll)
                    try matcher.vote(winnerTakesAll: true, poll: &poll)
                }
                level = matcher.level
            }
            previous = level
        }
        return previous ?? base
    }

    /// The coarsest start: holes take the mean known colour.
    static func meanFill(_ level: inout PatchLevel) {
        let c = level.channels
        var sum = [Double](repeating: 0, count: c)
        var n = 0.0
        for p in 0 ..< level.width * level.height where !level.hole[p] {
            for k in 0 ..< c { sum[k] += Double(level.values[p * c + k]) }
            n += 1
        }
        guard n > 0 else { return }
        for p in 0 ..< level.width * level.height where level.hole[p] {
            for k in 0 ..< c { level.values[p * c + k] = Float(sum[k] / n) }
        }
    }
}
