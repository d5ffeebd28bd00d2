import Foundation
import StrictJSON
import Tensor

/// A LoRA / LyCORIS file read into its modules (tensors in float32, alphas resolved), before it is matched
/// against any model. Files are small, so everything is read at once; `LoRAHeader` answers from names and
/// shapes only.
public struct LoRAFile: Sendable {
    public let path: String
    public let modules: [LoRAModule]
    /// Tensors whose names end in no known suffix (reported as unmatched keys, never silently dropped).
    public let unrecognisedKeys: [String]
    /// Textual-inversion vectors some LoRAs bundle (`bundle_emb.*`); the embedding loader's business, not ours.
    public let bundledEmbeddingKeys: [String]
    /// Those tensors per embedding name, in name order (keys that name no embedding are in `unrecognisedKeys`).
    public let bundledEmbeddings: [LoRABundledEmbedding]
    /// What names and shapes alone say (the family it was trained for).
    public let header: LoRAHeader

    /// The adapter type of the file: the types of its modules, `dora` when any is weight-decomposed,
    /// `locon` when linear and conv LoRA mix (LyCORIS' name for that).
    public var type: LoRAType {
        if modules.contains(where: { $0.doraScale != nil }) { return .dora }
        let types = Set(modules.map(\.delta.type))
        if types == [.lora, .locon] { return .locon }
        return types.count == 1 ? types.first ?? .lora : types.sorted().first ?? .lora
    }

    public init(path: String) throws {
        let source: any TensorSource
        var metadata: [String: String] = [:]
        var scalars: [String: Double] = [:]
        do {
            switch (path as NSString).pathExtension.lowercased() {
            case "safetensors":
                let file = try SafeTensorsFile(path: path)
                metadata = file.metadata
                source = file
            case "pt", "ckpt", "bin", "pth":
                let file = try TorchCheckpoint(path: path)
                scalars = file.scalars
                source = file
            default:
                throw LoRAFileError.unsupportedExtension(path: path)
            }
        } catch let error as LoRAFileError {
            throw error
        } catch {
            throw LoRAFileError.unreadable(path: path, reason: String(describing: error))
        }
        try self.init(path: path, source: source, metadata: metadata, scalars: scalars)
    }

    /// `scalars`: alphas a pickle stored as plain numbers instead of 0-d tensors.
    public init(path: String, source: any TensorSource, metadata: [String: String] = [:],
                scalars: [String: Double] = [:]) throws {
        self.path = path
        header = LoRAHeader(source: source)
        let grouped = LoRAKeyGroups(names: source.names + scalars.keys.filter { source.shape(of: $0) == nil })
        bundledEmbeddingKeys = grouped.bundledEmbeddings
        let peft = PEFTAlphas(metadata: metadata)

        func read(_ name: String) throws -> Tensor {
            do { return try source.tensor(name) } catch {
                throw LoRAFileError.unreadable(path: path, reason: String(describing: error))
            }
        }
        var unrecognised = grouped.unrecognised
        var bundles: [String: [String: Tensor]] = [:]
        for key in grouped.bundledEmbeddings {
            guard let (name, rest) = LoRABundledEmbedding.split(key) else { unrecognised.append(key); continue }
            bundles[name, default: [:]][rest] = try read(key)
        }
        bundledEmbeddings = bundles.keys.sorted().map { LoRABundledEmbedding(name: $0, tensors: bundles[$0] ?? [:]) }
        var modules: [LoRAModule] = []
        for (key, roles) in grouped.modules.sorted(by: { $0.key < $1.key }) {
            var assembled: (down: Tensor, up: Tensor)?
            if let parts = grouped.dyLoRA[key] {
                do { assembled = try parts.assemble(read: read) } catch let e as DyLoRAError {
                    throw LoRAFileError.badShape(path: path, module: key, detail: e.description)
                }
            }
            func tensor(_ role: LoRATensorRole) throws -> Tensor? {
                if let assembled, role == .down { return assembled.down }
                if let assembled, role == .up { return assembled.up }
                guard let name = roles[role] else { return nil }
                return try read(name)
            }
            let delta: LoRADelta
            do {
                delta = try Self.delta(key: key, roles: roles, tensor: tensor, path: path)
            } catch LoRAFileError.incompleteModule {
                // A stray part (a `lora_down` without its `lora_up`) adapts nothing: reported with the
                // unrecognised keys, the rest of the file still applies.
                unrecognised += roles.values
                continue
            }
            var alpha: Float?
            if let name = roles[.alpha] {
                if let value = scalars[name] {
                    alpha = Float(value)
                } else {
                    let t = try read(name)
                    guard t.count == 1, let value = t.scalars.first else {
                        throw LoRAFileError.badShape(path: path, module: key, detail: "alpha has shape \(t.shape), not a scalar")
                    }
                    alpha = value
                }
            } else if case let .lora(_, down, _) = delta {
                alpha = peft.alpha(for: key, rank: down.shape[0])
            }
            if let alpha, !alpha.isFinite {
                throw LoRAFileError.badShape(path: path, module: key, detail: "alpha \(alpha) is not finite")
            }
            modules.append(LoRAModule(key: key, delta: delta, alpha: alpha, doraScale: try tensor(.doraScale)))
        }
        guard !modules.isEmpty else { throw LoRAFileError.noAdapterTensors(path: path) }
        self.modules = modules
        unrecognisedKeys = unrecognised.sorted()
    }

    private static func delta(key: String, roles: [LoRATensorRole: String],
                              tensor: (LoRATensorRole) throws -> Tensor?, path: String) throws -> LoRADelta {
        func fail() -> LoRAFileError {
            .incompleteModule(path: path, module: key, found: roles.keys.map(\.rawValue).sorted())
        }
        if let up = try tensor(.up) {
            guard let down = try tensor(.down) else { throw fail() }
            let mid = try tensor(.mid)
            guard up.rank >= 2, down.rank >= 2, up.shape[1] == down.shape[0] || mid != nil else {
                throw LoRAFileError.badShape(path: path, module: key,
                                             detail: "lora_up \(up.shape) and lora_down \(down.shape) do not chain")
            }
            return .lora(up: up, down: down, mid: mid)
        }
        if let w1a = try tensor(.hadaW1A) {
            guard let w1b = try tensor(.hadaW1B), let w2a = try tensor(.hadaW2A), let w2b = try tensor(.hadaW2B) else { throw fail() }
            return .loha(w1a: w1a, w1b: w1b, w2a: w2a, w2b: w2b, t1: try tensor(.hadaT1), t2: try tensor(.hadaT2))
        }
        if roles[.lokrW1] != nil || roles[.lokrW1A] != nil {
            func factor(_ whole: LoRATensorRole, _ a: LoRATensorRole, _ b: LoRATensorRole) throws -> LoKrFactor {
                if let w = try tensor(whole) { return .whole(w) }
                guard let ta = try tensor(a), let tb = try tensor(b) else { throw fail() }
                return .product(a: ta, b: tb)
            }
            return .lokr(w1: try factor(.lokrW1, .lokrW1A, .lokrW1B), w2: try factor(.lokrW2, .lokrW2A, .lokrW2B),
                         t2: try tensor(.lokrT2))
        }
        if let diff = try tensor(.diff) {
            return .full(diff: diff, bias: try tensor(.diffBias))
        }
        throw fail()
    }
}

/// Tensor names grouped by module key and role.
struct LoRAKeyGroups {
    var modules: [String: [LoRATensorRole: String]] = [:]
    var unrecognised: [String] = []
    var bundledEmbeddings: [String] = []
    /// Modules stored as DyLoRA's per-rank parts (their `down`/`up` roles name rank 0's parts).
    var dyLoRA: [String: DyLoRAParts] = [:]

    init(names: [String]) {
        for name in names {
            if name.hasPrefix("bundle_emb.") { bundledEmbeddings.append(name); continue }
            if let (module, isA, index) = DyLoRAParts.split(name) {
                if isA { dyLoRA[module, default: DyLoRAParts()].a[index] = name } else { dyLoRA[module, default: DyLoRAParts()].b[index] = name }
                continue
            }
            guard let (module, role) = LoRATensorRole.split(name) else { unrecognised.append(name); continue }
            modules[module, default: [:]][role] = name
        }
        for (module, parts) in dyLoRA {
            guard modules[module]?[.down] == nil, modules[module]?[.up] == nil else {
                // Both layouts for one module: which is meant cannot be told.
                unrecognised += parts.a.values.sorted() + parts.b.values.sorted()
                dyLoRA[module] = nil
                continue
            }
            modules[module, default: [:]][.down] = parts.a[0] ?? parts.a.values.sorted().first
            modules[module, default: [:]][.up] = parts.b[0] ?? parts.b.values.sorted().first
        }
        // An alpha (or DoRA scale) alone adapts nothing: report it with the unrecognised keys.
        for (module, roles) in modules where Set(roles.keys).isSubset(of: [.alpha, .doraScale]) {
            unrecognised.append(contentsOf: roles.values)
            modules[module] = nil
        }
        unrecognised.sort()
        bundledEmbeddings.sort()
    }
}

/// The alpha diffusers/PEFT files record in their `lora_adapter_metadata` (per component: `lora_alpha`,
/// `alpha_pattern`, `use_rslora`) for modules stored without `.alpha` tensors.
struct PEFTAlphas {
    struct Component {
        var alpha: Double?
        var pattern: [String: Double] = [:]
        var rsLoRA = false
    }
    var components: [String: Component] = [:]

    init(metadata: [String: String]) {
        guard let text = metadata["lora_adapter_metadata"],
              let object = (try? JSONParser.parse(Array(text.utf8)))?.objectValue else { return }
        for (key, value) in object {
            guard let dot = key.firstIndex(of: ".") else { continue }
            let component = String(key[..<dot]), field = String(key[key.index(after: dot)...])
            var c = components[component] ?? Component()
            switch field {
            case "lora_alpha": c.alpha = value.doubleValue
            case "use_rslora": c.rsLoRA = value.boolValue ?? false
            case "alpha_pattern":
                for (pattern, alpha) in value.objectValue ?? [:] { if let a = alpha.doubleValue { c.pattern[pattern] = a } }
            default: break
            }
            components[component] = c
        }
    }

    /// The alpha of module `key` (`unet.down_blocks…`), as PEFT would scale it; nil when the file says nothing.
    func alpha(for key: String, rank: Int) -> Float? {
        let trimmed = key.hasPrefix("base_model.model.") ? String(key.dropFirst("base_model.model.".count)) : key
        guard let dot = trimmed.firstIndex(of: "."), let c = components[String(trimmed[..<dot])] else { return nil }
        // PEFT matches alpha_pattern keys as module-name suffixes; the longest match wins.
        let module = String(trimmed[trimmed.index(after: dot)...])
        let matched = c.pattern.filter { module == $0.key || module.hasSuffix("." + $0.key) }.max { $0.key.count < $1.key.count }
        guard let alpha = matched?.value ?? c.alpha else { return nil }
        // rsLoRA scales by alpha / sqrt(r); expressed as an alpha for the usual alpha / r.
        return Float(c.rsLoRA ? alpha * Double(rank).squareRoot() : alpha)
    }
}
