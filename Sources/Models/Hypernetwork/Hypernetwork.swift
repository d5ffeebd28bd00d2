import Foundation
import Tensor
import Weights

/// An A1111 hypernetwork: per context width, a pair of modules the attention's key and value inputs go through
/// (`x + module(x) · strength`), applied wherever an attention's context has that width (self-attention at the
/// UNet's channel widths, cross-attention at the text width). Loaded from A1111's `.pt` — zip or torch's legacy
/// format, through the restricted unpickler: a dict keyed by width (int) of [key module, value module] state
/// dicts beside its hyper-parameters (`HypernetworkStructure`); 2022 files name the layers `linear1`/`linear2`.
public struct Hypernetwork: Sendable {
    public let name: String
    let modules: [Int: (key: HypernetworkModule, value: HypernetworkModule)]
    /// Float32 parameters held (for the memory budget).
    public let parameterCount: Int
    /// Bytes its weights occupy resident (16-bit weight matrices at 2 bytes per value).
    public let residentBytes: Int

    public var widths: [Int] { modules.keys.sorted() }

    /// The family its text-width module was trained for (`HypernetworkFamily`).
    public var family: String? { HypernetworkFamily.name(widths: widths) }

    public static let extensions = ["pt", "ckpt"]

    public static func load(path: String, name: String) throws -> Hypernetwork {
        do {
            return try Hypernetwork(checkpoint: try TorchCheckpoint(path: path, options: .init(flattenLists: true)), name: name)
        } catch let e as HypernetworkError {
            throw e
        } catch {
            throw HypernetworkError.corrupt(name: name, reason: "\(error)")
        }
    }

    init(checkpoint: TorchCheckpoint, name: String) throws {
        let structure: HypernetworkStructure
        do { structure = try HypernetworkStructure(metadata: checkpoint.metadata) } catch {
            throw HypernetworkError.corrupt(name: name, reason: "\(error)")
        }
        // "<width>.<0|1>.<rest>", the 2022 names mapped as A1111's fix_old_state_dict does.
        var mapping: [String: String] = [:]
        var widths = Set<Int>()
        for original in checkpoint.names {
            let parts = original.split(separator: ".", maxSplits: 2).map(String.init)
            guard parts.count == 3, let width = Int(parts[0]), width > 0, parts[1] == "0" || parts[1] == "1" else {
                throw HypernetworkError.corrupt(name: name, reason: "tensor '\(original)' is not <width>.<0|1>.<layer>")
            }
            var rest = parts[2]
            for (old, new) in [("linear1.", "linear.0."), ("linear2.", "linear.1.")] where rest.hasPrefix(old) {
                rest = new + rest.dropFirst(old.count)
            }
            widths.insert(width)
            mapping["\(width).\(parts[1]).\(rest)"] = original
        }
        guard !widths.isEmpty else { throw HypernetworkError.corrupt(name: name, reason: "no width-keyed modules") }
        guard widths.allSatisfy({ $0 <= 8192 }) else {
            throw HypernetworkError.corrupt(name: name, reason: "module width \(widths.max() ?? 0) is beyond any Stable Diffusion model")
        }
        let reader = WeightReader(RenamedSource(checkpoint, mapping: mapping))
        var modules: [Int: (key: HypernetworkModule, value: HypernetworkModule)] = [:]
        do {
            for width in widths.sorted() {
                let scope = WeightScope(reader, path: String(width))
                modules[width] = (try HypernetworkModule(scope[0], dim: width, structure: structure),
                                  try HypernetworkModule(scope[1], dim: width, structure: structure))
            }
            try reader.finish()
        } catch {
            throw HypernetworkError.corrupt(name: name, reason: "\(error)")
        }
        self.name = name
        self.modules = modules
        parameterCount = reader.loadedElements
        residentBytes = reader.loadedBytes
    }

    /// An error unless some module width is one of `modelWidths` (the model's attention context widths).
    public func check(modelWidths: Set<Int>) throws {
        guard widths.contains(where: modelWidths.contains) else {
            throw HypernetworkError.noMatchingWidth(name: name, widths: widths, modelWidths: modelWidths.sorted())
        }
    }

    /// The widths it would change in a model with `modelWidths`.
    public func matched(modelWidths: Set<Int>) -> [Int] { widths.filter(modelWidths.contains) }
}

/// The hypernetworks of one run, in the order A1111 applies them (each on the previous one's output).
public struct HypernetworkStack: Sendable {
    public struct Entry: Sendable {
        public let network: Hypernetwork
        public let strength: Float
        public init(network: Hypernetwork, strength: Float) {
            self.network = network
            self.strength = strength
        }
    }

    public var entries: [Entry]

    public static let none = HypernetworkStack(entries: [])

    public init(entries: [Entry]) {
        self.entries = entries
    }

    public var isEmpty: Bool { entries.isEmpty }

    /// The key and value inputs of an attention whose context is `context` [B, L, width].
    func apply(_ context: Tensor) -> (key: Tensor, value: Tensor) {
        let width = context.shape[context.shape.count - 1]
        var k = context, v = context
        for e in entries {
            guard let pair = e.network.modules[width] else { continue }
            k = pair.key(k, strength: e.strength)
            v = pair.value(v, strength: e.strength)
        }
        return (k, v)
    }
}

/// sd1 when a hypernetwork has a module for 768-wide (CLIP-L) contexts, sd2 for 1024 (OpenCLIP-H); else nil
/// (A1111 hypernetworks exist for those two; SDXL's 2048-wide context has none).
public enum HypernetworkFamily {
    public static func name(widths: [Int]) -> String? {
        widths.contains(768) ? "sd1" : widths.contains(1024) ? "sd2" : nil
    }
}

/// What a hypernetwork file says without building it (`models.list`): its module widths and hyper-parameters,
/// from the pickle alone (tensor data is never read).
public struct HypernetworkDescription: Sendable, Equatable {
    public let widths: [Int]
    public let layerStructure: [Double]?
    public let activation: String?

    public var family: String? { HypernetworkFamily.name(widths: widths) }

    public static func read(path: String, name: String) throws -> HypernetworkDescription {
        let checkpoint: TorchCheckpoint
        do { checkpoint = try TorchCheckpoint(path: path, options: .init(flattenLists: true)) } catch {
            throw HypernetworkError.corrupt(name: name, reason: "\(error)")
        }
        let widths = Set(checkpoint.names.compactMap { $0.split(separator: ".").first.flatMap { Int($0) } }).sorted()
        guard !widths.isEmpty else { throw HypernetworkError.corrupt(name: name, reason: "no width-keyed modules") }
        return HypernetworkDescription(widths: widths, layerStructure: checkpoint.metadata["layer_structure"]?.numbers,
                                       activation: checkpoint.metadata["activation_func"]?.string)
    }
}
