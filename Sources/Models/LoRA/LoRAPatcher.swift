import Tensor
import Weights

/// One adapter file to apply, with its strengths for the text encoders and the UNet.
public struct LoRAApplication: Sendable {
    public let file: LoRAFile
    public let textEncoderWeight: Float
    public let unetWeight: Float
    /// A1111's DyLoRA `dyn=N`: only the first N ranks of each plain LoRA / LoCon module (`LoRAMath`); nil for all.
    public let dyn: Int?

    public init(file: LoRAFile, textEncoderWeight: Float, unetWeight: Float, dyn: Int? = nil) {
        self.file = file
        self.textEncoderWeight = textEncoderWeight
        self.unetWeight = unetWeight
        self.dyn = dyn
    }
}

/// How one adapter's modules met the model.
public struct LoRAMatch: Sendable, Equatable {
    /// Modules (adapted layers) that found their weight and were applied.
    public var matched = 0
    /// Modules in the file (bundled embeddings are not modules).
    public var total = 0
    /// Keys of modules that found no weight, or whose shapes do not fit it (with the reason), in file order.
    public var unmatched: [String] = []
    /// The networks it touched.
    public var components: Set<String> = []
}

public enum LoRAPatchError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The model was built by hand, without the recorded weights patched networks are built from.
    case noRecordedWeights

    public var description: String {
        switch self {
        case .noRecordedWeights: return "the model keeps no record of its weights, so adapters cannot be applied to it"
        }
    }
}

/// Merges adapters into copies of the weights they touch and builds patched networks from the base model's
/// recorded weights with those copies in place: W' = W + m · scale · ΔW in float32 (`LoRAMath`), DoRA
/// rescaling the merged weight to its learned norm. The base networks and their tensors are never written;
/// only touched tensors get a second copy; untouched networks are shared as they are.
///
/// With `residency` `.half` a merged copy of a 16-bit weight is kept as fp16 too (rounded once, after all
/// adapters were added in float32), as `--weights half` keeps every weight matrix: a weight exactly one low-rank
/// module touches is rounded block by block right after its product, so no float32 copy of it is ever made.
public enum LoRAPatcher {
    public static func patch(_ models: StableDiffusionModels, with adapters: [LoRAApplication],
                             residency: WeightResidency = .processDefault) throws
        -> (models: StableDiffusionModels, matches: [LoRAMatch], patchedBytes: Int, timings: LoRAMergeTimings) {
        guard let weights = models.weights else { throw LoRAPatchError.noRecordedWeights }
        let resolver = LoRAKeyResolver(weights: weights, unetConfig: models.unet.config)
        var working = WorkingWeights(weights: weights, narrowsMerged: residency == .half)
        for adapter in adapters {
            for module in adapter.file.modules {
                guard let (component, target) = resolver.resolve(module.key) else { continue }
                for name in target.weightNames { working.touches[component, default: [:]][name, default: 0] += 1 }
            }
        }
        var matches: [LoRAMatch] = []
        for adapter in adapters {
            var match = LoRAMatch()
            match.total = adapter.file.modules.count
            for module in adapter.file.modules {
                guard let (component, target) = resolver.resolve(module.key) else {
                    match.unmatched.append(module.key)
                    continue
                }
                let strength = component == .unet ? adapter.unetWeight : adapter.textEncoderWeight
                do {
                    try working.apply(module, to: target, in: component, strength: strength, dyn: adapter.dyn)
                    match.matched += 1
                    match.components.insert(component.description)
                } catch let misfit as Misfit {
                    match.unmatched.append("\(module.key): \(misfit.reason)")
                }
            }
            match.unmatched.append(contentsOf: adapter.file.unrecognisedKeys)
            matches.append(match)
        }
        working.narrowFloat32Copies()
        var timings = working.timings
        let built = try LoRAMergeTimings.time(&timings.buildSeconds) { try working.build(on: models) }
        return (built, matches, working.patchedBytes, timings)
    }

    struct Misfit: Error { let reason: String }

    /// The touched weights, copied from the base on first touch and accumulated in place adapter by adapter.
    struct WorkingWeights {
        let weights: NetworkWeights
        var patched: [LoRAComponent: [String: Tensor]] = [:]
        var timings = LoRAMergeTimings()
        /// Where each network's copies live (memory a replaced set leaves is reused, `TensorArena.recycling`),
        /// counted with the base network by the caches bounded per network.
        var arenas: [LoRAComponent: TensorArena] = [:]
        /// Where fp16 merged copies live (apart from the float32 ones, which go once they are rounded).
        var narrowArenas: [LoRAComponent: TensorArena] = [:]
        /// Whether merged copies of 16-bit weights are kept as fp16 (`WeightResidency.half`).
        let narrowsMerged: Bool
        /// How many modules of the adapter set target each weight.
        var touches: [LoRAComponent: [String: Int]] = [:]

        init(weights: NetworkWeights, narrowsMerged: Bool) {
            self.weights = weights
            self.narrowsMerged = narrowsMerged
        }

        /// What the copies hold beside the base, as kept: the memory a kept adapter set costs.
        var patchedBytes: Int {
            patched.values.reduce(0) { sum, tensors in sum + tensors.values.reduce(0) { $0 + $1.byteCount } }
        }

        /// Whether the merged copy of `base` is kept as fp16.
        func keepsNarrow(_ base: Tensor) -> Bool { narrowsMerged && base.elementType != .float32 }

        func source(_ component: LoRAComponent) -> ComponentWeights? {
            switch component {
            case .unet: return weights.unet
            case let .textEncoder(slot): return weights.textEncoders[slot]
            }
        }

        /// A tensor of our own for `name`: the working copy (taken out of the table so writing it does not copy
        /// it again), or on first touch a fresh copy of the base made over the compute threads (the base itself
        /// is never written; copy-on-write would copy it on one thread).
        mutating func take(_ name: String, in component: LoRAComponent) throws -> Tensor {
            let base: Tensor
            if let working = patched[component]?.removeValue(forKey: name) {
                if working.elementType == .float32 { return working }
                base = working  // rounded to fp16 already (only a weight one module touches is): widened again
            } else {
                guard let source = try? source(component)?.tensor(name) else { throw Misfit(reason: "\(component) \(name) is not loaded") }
                base = source
            }
            var copy = arena(for: component, base: base).tensor(uninitializedShape: base.shape)
            LoRAMergeTimings.time(&timings.copySeconds) {
                copy.withUnsafeMutableBufferPointer { dst in
                    guard let d = dst.baseAddress else { return }
                    // 16-bit weights are widened slice by slice straight into the copy.
                    Parallel.forEachSlice(count: dst.count, grain: 1 << 18) { range in
                        TensorArena.populateForWriting(d + range.lowerBound, count: range.count)
                        base.storage.copyFloat32(range, into: d + range.lowerBound)
                    }
                }
            }
            return copy
        }

        /// The arena of `component`'s copies, made on its first copy with the base tensor's owner as its network.
        mutating func arena(for component: LoRAComponent, base: Tensor) -> TensorArena {
            if let arena = arenas[component] { return arena }
            let arena = TensorArena(network: base.storage.owner)
            arenas[component] = arena
            return arena
        }

        /// The arena of `component`'s fp16 copies.
        mutating func narrowArena(for component: LoRAComponent, base: Tensor) -> TensorArena {
            if let arena = narrowArenas[component] { return arena }
            let arena = TensorArena(network: base.storage.owner)
            narrowArenas[component] = arena
            return arena
        }

        /// `source`'s float32 values into a new fp16 tensor of `component`, over the compute threads.
        mutating func narrowedCopy(_ source: Tensor, in component: LoRAComponent, base: Tensor) -> Tensor {
            let narrow = narrowArena(for: component, base: base).tensor(uninitializedShape: source.shape, elementType: .float16)
            source.withUnsafeBufferPointer { values in
                guard let v = values.baseAddress else { return }
                Self.storeNarrowed(v, range: 0..<source.count, into: narrow)
            }
            return narrow
        }

        /// Elements `range` of `narrow` from `values` (the float32 values of those elements), faulting each
        /// thread's slice in first.
        static func storeNarrowed(_ values: UnsafePointer<Float>, range: Range<Int>, into narrow: Tensor) {
            let storage = narrow.storage
            Parallel.forEachSlice(count: range.count, grain: 1 << 16) { slice in
                let elements = (range.lowerBound + slice.lowerBound)..<(range.lowerBound + slice.upperBound)
                TensorArena.populateForWriting(storage.address + elements.lowerBound * 2, bytes: elements.count * 2)
                storage.storeNarrowed(elements, from: values + slice.lowerBound)
            }
        }

        /// Rounds the float32 copies of 16-bit weights to fp16 once every adapter is in (with `narrowsMerged`);
        /// their float32 memory goes with this value.
        mutating func narrowFloat32Copies() {
            guard narrowsMerged else { return }
            for (component, tensors) in patched {
                for (name, tensor) in tensors where tensor.elementType == .float32 {
                    guard let base = try? source(component)?.tensor(name), keepsNarrow(base) else { continue }
                    var seconds = 0.0
                    let narrow = LoRAMergeTimings.time(&seconds) { narrowedCopy(tensor, in: component, base: base) }
                    timings.narrowSeconds += seconds
                    patched[component]?[name] = narrow
                }
            }
        }

        /// `name` += factor · delta[offset ..< offset + count], in place, over the compute threads.
        mutating func add(_ delta: Tensor, offset: Int = 0, times factor: Float, to name: String, in component: LoRAComponent) throws {
            var weight = try take(name, in: component)
            weight.withUnsafeMutableBufferPointer { dst in
                delta.withUnsafeBufferPointer { src in
                    guard let d = dst.baseAddress, let s = src.baseAddress.map({ $0 + offset }) else { return }
                    Parallel.forEachSlice(count: dst.count, grain: 1 << 16) { range in
                        for i in range { d[i] += factor * s[i] }
                    }
                }
            }
            patched[component, default: [:]][name] = weight
        }

        /// Floats of a weight copied and then accumulated into while they are still in cache (8 MB).
        nonisolated(unsafe) static var blockFloats = 2 << 20

        /// `name` += factor · up[rows] · down, accumulated by the GEMM itself (beta = 1): no ΔW buffer. On first
        /// touch the base is copied a block of rows at a time, each block accumulated into right after its copy:
        /// copying the whole tensor first and then letting the GEMM read and write it again from memory was half
        /// of a first apply. Per element the arithmetic is the same (the GEMM's sum over the rank is not split).
        /// A 16-bit weight no other module touches, kept as fp16 (`keepsNarrow`), is never copied whole as float32:
        /// each block is widened into a float32 scratch block in cache, accumulated there and rounded into the fp16
        /// copy, so the rounding happens once, on the same float32 sums as the float32 merge.
        mutating func addProduct(_ up: Tensor, rows: Range<Int>, _ down: Tensor, times factor: Float,
                                 to name: String, in component: LoRAComponent) throws {
            let (rank, columns) = (down.shape[0], down.shape[1])
            let base: Tensor? = patched[component]?[name] == nil ? try? source(component)?.tensor(name) : nil
            let narrowing = base.map { keepsNarrow($0) && touches[component]?[name] == 1 } ?? false
            var weight: Tensor
            if let base {
                weight = narrowing
                    ? narrowArena(for: component, base: base).tensor(uninitializedShape: base.shape, elementType: .float16)
                    : arena(for: component, base: base).tensor(uninitializedShape: base.shape)
            } else {
                weight = try take(name, in: component)
            }
            guard weight.count == rows.count * columns else { throw Misfit(reason: "\(component) \(name) does not fit its rows of ΔW") }
            let blockRows = base == nil ? rows.count : min(rows.count, max(1, Self.blockFloats / max(1, columns)))
            let scratch = narrowing ? UnsafeMutablePointer<Float>.allocate(capacity: max(1, blockRows * columns)) : nil
            defer { scratch?.deallocate() }
            var (copySeconds, productSeconds, narrowSeconds) = (0.0, 0.0, 0.0)
            // The block loop, into the float32 weight itself (`wide`) or into the scratch block.
            func accumulate(into wide: UnsafeMutablePointer<Float>?, merged: Tensor?) {
                up.withUnsafeBufferPointer { a in
                    down.withUnsafeBufferPointer { b in
                        guard let a = a.baseAddress, let b = b.baseAddress, let destination = wide ?? scratch else { return }
                        var first = 0
                        while first < rows.count {
                            let count = min(blockRows, rows.count - first)
                            let elements = (first * columns)..<((first + count) * columns)
                            let block = scratch ?? destination + elements.lowerBound
                            if let base {
                                LoRAMergeTimings.time(&copySeconds) {
                                    Parallel.forEachSlice(count: elements.count, grain: 1 << 16) { range in
                                        // The scratch block is reused and stays in cache; a fresh copy is faulted in per thread.
                                        if scratch == nil { TensorArena.populateForWriting(block + range.lowerBound, count: range.count) }
                                        base.storage.copyFloat32((elements.lowerBound + range.lowerBound)..<(elements.lowerBound + range.upperBound),
                                                                 into: block + range.lowerBound)
                                    }
                                }
                            }
                            LoRAMergeTimings.time(&productSeconds) {
                                Gemm.multiply(transposeA: false, transposeB: false, m: count, n: columns, k: rank, alpha: factor,
                                              a: a + (rows.lowerBound + first) * rank, lda: rank, b: b, ldb: columns, beta: 1,
                                              c: block, ldc: columns)
                            }
                            if let merged {
                                LoRAMergeTimings.time(&narrowSeconds) { Self.storeNarrowed(block, range: elements, into: merged) }
                            }
                            first += count
                        }
                    }
                }
            }
            if narrowing {
                accumulate(into: nil, merged: weight)
            } else {
                weight.withUnsafeMutableBufferPointer { accumulate(into: $0.baseAddress, merged: nil) }
            }
            patched[component, default: [:]][name] = weight
            timings.copySeconds += copySeconds
            timings.productSeconds += productSeconds
            timings.narrowSeconds += narrowSeconds
        }

        mutating func apply(_ module: LoRAModule, to target: LoRATarget, in component: LoRAComponent, strength: Float,
                            dyn: Int?) throws {
            guard let source = source(component) else { throw Misfit(reason: "the model has no \(component)") }
            let names = target.weightNames
            let shapes = try names.map { name -> [Int] in
                guard let shape = source.shape(of: name), shape.count >= 2 else { throw Misfit(reason: "\(component) \(name) has no weight matrix") }
                return shape
            }
            // Fused in_proj: one ΔW over the stacked rows of q, k and v.
            var shape = shapes[0]
            shape[0] = shapes.reduce(0) { $0 + $1[0] }
            guard shapes.allSatisfy({ Array($0.dropFirst()) == Array(shapes[0].dropFirst()) }) else {
                throw Misfit(reason: "fused target of unequal shapes \(shapes)")
            }
            // A 4-channel LoRA on a 9-channel inpainting conv_in: ΔW covers the first input channels, the
            // mask and masked-image channels get none (zero-padded).
            var deltaShape = shape
            if names == ["conv_in.weight"], case let .lora(_, down, _) = module.delta, down.rank == 4, down.shape[1] < shape[1] {
                deltaShape[1] = down.shape[1]
            }
            if module.doraScale == nil, deltaShape == shape, let (scale, up, down) = LoRAMath.lowRankFactors(module, shape: shape, dyn: dyn) {
                guard strength != 0 else { return }
                var row = 0
                for (name, partShape) in zip(names, shapes) {
                    try addProduct(up, rows: row..<(row + partShape[0]), down, times: strength * scale, to: name, in: component)
                    row += partShape[0]
                }
                return
            }
            guard let (scale, unpadded) = LoRAMath.delta(module, shape: deltaShape, dyn: dyn) else {
                throw Misfit(reason: "its factors do not make a \(deltaShape) delta for \(component) \(names.joined(separator: "+")) \(shape)")
            }
            let perOutput = module.doraScale.map { $0.shape.first == shape[0] && $0.count == shape[0] } ?? false
            if let dora = module.doraScale, names.count != 1 || !(perOutput || dora.count == shape[1]) {
                throw Misfit(reason: "dora_scale \(dora.shape) fits neither axis of \(shape)")
            }
            if case let .full(_, bias?) = module.delta {
                let biasName = String(names[0].dropLast("weight".count)) + "bias"
                guard source.shape(of: biasName) == [shape[0]], bias.count == shape[0] else {
                    throw Misfit(reason: "diff_b \(bias.shape) has no matching bias \(biasName)")
                }
                if strength != 0 { try add(bias, times: strength, to: biasName, in: component) }
            }
            guard strength != 0 else { return }
            let delta = unpadded.shape == shape ? unpadded : Tensor(shape: shape, values: Self.padded(unpadded, to: shape))
            if let dora = module.doraScale {
                // The axis as ComfyUI picks it: [out, 1, …] scales output rows, [1, in, …] input columns.
                var weight = try take(names[0], in: component)
                weight.withUnsafeMutableBufferPointer { w in
                    Self.applyDoRA(w, delta: delta.scalars, scale: scale, dora: dora.scalars, shape: shape, perOutput: perOutput,
                                   strength: strength)
                }
                patched[component, default: [:]][names[0]] = weight
                return
            }
            var offset = 0
            for (name, partShape) in zip(names, shapes) {
                try add(delta, offset: offset, times: strength * scale, to: name, in: component)
                offset += partShape.reduce(1, *)
            }
        }

        /// ΔW [out, in', k…] placed into a zero [out, in, k…] (in' ≤ in).
        static func padded(_ delta: Tensor, to shape: [Int]) -> [Float] {
            let out = shape[0], inner = shape.dropFirst(2).reduce(1, *)
            let have = delta.shape[1], want = shape[1]
            let values = delta.scalars
            var result = [Float](repeating: 0, count: shape.reduce(1, *))
            for o in 0..<out {
                for c in 0..<have {
                    let src = (o * have + c) * inner, dst = (o * want + c) * inner
                    result.replaceSubrange(dst..<(dst + inner), with: values[src..<(src + inner)])
                }
            }
            return result
        }

        /// DoRA (LyCORIS / ComfyUI): W_c = W + scale·ΔW, rescaled to `dora` over the norm of each output row (or,
        /// for a [1, in, …] scale, each input column) of W_c; the strength blends: W' = W + m·(W_c·dora/‖W_c‖ − W).
        static func applyDoRA(_ weight: UnsafeMutableBufferPointer<Float>, delta: [Float], scale: Float, dora: [Float],
                              shape: [Int], perOutput: Bool, strength: Float) {
            let out = shape[0], columns = weight.count / out
            var calc = Array(weight)
            for i in 0..<calc.count { calc[i] += scale * delta[i] }
            let inner = shape.dropFirst(2).reduce(1, *)
            var norms = [Double](repeating: 0, count: perOutput ? out : shape[1])
            for i in 0..<calc.count {
                let axis = perOutput ? i / columns : (i % columns) / inner
                norms[axis] += Double(calc[i]) * Double(calc[i])
            }
            let eps = Float.ulpOfOne
            for i in 0..<calc.count {
                let axis = perOutput ? i / columns : (i % columns) / inner
                let rescaled = calc[i] * (dora[axis] / (Float(norms[axis].squareRoot()) + eps))
                weight[i] += strength * (rescaled - weight[i])
            }
        }

        /// The model with patched networks where weights changed; the others (and the VAE) shared.
        func build(on models: StableDiffusionModels) throws -> StableDiffusionModels {
            // Read-only from here on: nothing writes a merged weight again, and caches keyed on weight identity
            // (the kept Winograd transforms) take only read-only weights.
            func tensors(_ component: LoRAComponent) -> [String: Tensor] {
                guard let tensors = patched[component] else { return [:] }
                return tensors.mapValues { tensor in
                    [arenas[component], narrowArenas[component]].compactMap { $0 }.reduce(tensor) { $1.readOnly($0) }
                }
            }
            var encoders = models.textEncoders
            var textWeights = weights.textEncoders
            for (i, loaded) in encoders.enumerated() {
                let replacements = tensors(.textEncoder(loaded.slot))
                guard !replacements.isEmpty, let source = weights.textEncoders[loaded.slot]?.overlaid(replacements) else { continue }
                let encoder = try CLIPTextEncoder(config: loaded.encoder.config, weights: source,
                                                  layersToRun: loaded.encoder.layersToRun, sharingBF16With: loaded.encoder)
                encoders[i] = LoadedTextEncoder(slot: loaded.slot, encoder: encoder, tokenizer: loaded.tokenizer)
                textWeights[loaded.slot] = source
            }
            var unet = models.unet
            var unetWeights = weights.unet
            let replacements = tensors(.unet)
            if !replacements.isEmpty {
                unetWeights = weights.unet.overlaid(replacements)
                unet = try UNet(config: models.unet.config, weights: unetWeights, sharingBF16With: models.unet)
            }
            return models.replacing(textEncoders: encoders, unet: unet,
                                    weights: NetworkWeights(unet: unetWeights, textEncoders: textWeights))
        }
    }
}
