/// Collects name-mapping rules for one component of a single-file checkpoint and enforces strictness:
/// a required original tensor that is absent, or a tensor under the component's prefix that no rule
/// consumed, fails `finish()` with the names.
struct MappingBuilder {
    let source: any TensorSource
    let component: String
    /// Prefix of the component's tensors in the checkpoint ("model.diffusion_model.").
    let prefix: String
    /// Every tensor under this prefix must be consumed (defaults to `prefix`; the text encoder checks all
    /// of "cond_stage_model." even though its names start deeper).
    let strictPrefix: String
    private(set) var table: [String: MappedTensorSource.Origin] = [:]
    private var consumed: Set<String> = []
    private var missing: [String] = []
    private var shapeErrors: [NameMappingError] = []

    init(source: any TensorSource, component: String, prefix: String, strictPrefix: String? = nil) {
        self.source = source
        self.component = component
        self.prefix = prefix
        self.strictPrefix = strictPrefix ?? prefix
    }

    func has(_ name: String) -> Bool { source.shape(of: prefix + name) != nil }
    func shape(_ name: String) -> [Int]? { source.shape(of: prefix + name) }

    /// Exposes original `prefix + ldm` as `diffusers`.
    mutating func map(_ ldm: String, _ diffusers: String, _ transform: MappedTensorSource.Transform = .identity,
                      required: Bool = true) {
        mapFullName(prefix + ldm, diffusers, transform, required: required)
    }

    /// Exposes the original `full` (a name outside `prefix`, still under `strictPrefix`) as `diffusers`.
    mutating func mapFullName(_ full: String, _ diffusers: String,
                              _ transform: MappedTensorSource.Transform = .identity, required: Bool = true) {
        guard let shape = source.shape(of: full) else {
            if required { missing.append(full) }
            return
        }
        consumed.insert(full)
        var outShape = shape
        switch transform {
        case .identity:
            break
        case .squeezeConv1x1:
            if shape.count == 4, shape[2] == 1, shape[3] == 1 {
                outShape = [shape[0], shape[1]]
            } else if shape.count != 2 {
                shapeErrors.append(.shapeMismatch(component: component, name: full, shape: shape,
                                                  expected: "[out, in, 1, 1] or [out, in]"))
                return
            }
        case let .rows(_, parts):
            guard let first = shape.first, first % parts == 0 else {
                shapeErrors.append(.shapeMismatch(component: component, name: full, shape: shape,
                                                  expected: "first dimension divisible by \(parts)"))
                return
            }
            outShape[0] = first / parts
        case .transpose:
            guard shape.count == 2 else {
                shapeErrors.append(.shapeMismatch(component: component, name: full, shape: shape, expected: "a 2-d matrix"))
                return
            }
            outShape = [shape[1], shape[0]]
        }
        table[diffusers] = MappedTensorSource.Origin(name: full, transform: transform, shape: outShape)
    }

    /// `ldm.weight`/`ldm.bias` as `diffusers.weight`/`diffusers.bias`.
    mutating func mapLayer(_ ldm: String, _ diffusers: String, weight: MappedTensorSource.Transform = .identity,
                           bias: Bool = true, required: Bool = true) {
        map(ldm + ".weight", diffusers + ".weight", weight, required: required)
        if bias { map(ldm + ".bias", diffusers + ".bias", required: required) }
    }

    /// A tensor the checkpoint must have but that is not exposed (e.g. the OpenCLIP layer SD2 skips).
    mutating func consume(_ ldm: String) {
        if has(ldm) { consumed.insert(prefix + ldm) } else { missing.append(prefix + ldm) }
    }

    /// Buffers some files carry that hold no weights (CLIP's position_ids, OpenCLIP's logit_scale).
    mutating func ignoreIfPresent(_ ldm: String) {
        if has(ldm) { consumed.insert(prefix + ldm) }
    }

    /// Every tensor under `prefix + stem` (a training-only module stored alongside the model).
    mutating func ignoreSubtree(_ stem: String) {
        for name in source.names where name.hasPrefix(prefix + stem) { consumed.insert(name) }
    }

    /// Distinct integers `k` of names `prefix + stem + "k."...` (e.g. the resblock numbers).
    func indices(under stem: String) -> [Int] {
        let head = prefix + stem
        var found = Set<Int>()
        for name in source.names where name.hasPrefix(head) {
            let rest = name.dropFirst(head.count)
            if let dot = rest.firstIndex(of: "."), let k = Int(rest[..<dot]) { found.insert(k) }
        }
        return found.sorted()
    }

    func finish() throws -> MappedTensorSource {
        if let error = shapeErrors.first { throw error }
        // A fused original (q/k/v in_proj) feeds three rules: name it once.
        if !missing.isEmpty { throw NameMappingError.missingTensors(component: component, names: Set(missing).sorted()) }
        let unexpected = source.names.filter { $0.hasPrefix(strictPrefix) && !consumed.contains($0) }
        if !unexpected.isEmpty {
            throw NameMappingError.unexpectedTensors(component: component, names: unexpected.sorted())
        }
        return MappedTensorSource(base: source, table: table)
    }
}
