import Foundation
import Tensor
import Weights

/// Reads an embedding file by A1111's rules (`create_embedding_from_data`), through the project's readers only
/// (`.pt`/`.bin` via the restricted unpickler, never executing anything):
/// - A1111 `.pt`: `string_to_param` with exactly one entry (conventionally `*`) -> that tensor;
/// - SDXL: `clip_l` and `clip_g` tensors -> the two slots;
/// - otherwise exactly one tensor (kohya `emb_params`, diffusers `{token: tensor}` .bin/.safetensors).
/// A 1-D tensor [D] is one vector. Headers alone (`describe`) give the slots' shapes for `models.list`.
public enum TextualInversionFile {
    public static let extensions = ["safetensors", "pt", "bin"]

    /// The tensors of the file that hold vectors: [slot: tensor name].
    static func layout(_ source: any TensorSource, name: String) throws -> [TextualInversionSlot: String] {
        try layout(names: source.names, name: name)
    }

    /// The same rules over tensor names alone (a file's, or the keys a LoRA bundles under one embedding).
    static func layout(names: [String], name: String) throws -> [TextualInversionSlot: String] {
        let params = names.filter { $0.hasPrefix("string_to_param.") }
        if !params.isEmpty {
            guard params.count == 1 else {
                throw TextualInversionError.unrecognised(name: name, tensors: params)
            }
            return [.single: params[0]]
        }
        if names.contains("clip_l"), names.contains("clip_g") { return [.clipL: "clip_l", .clipG: "clip_g"] }
        guard names.count == 1 else { throw TextualInversionError.unrecognised(name: name, tensors: names) }
        return [.single: names[0]]
    }

    /// Wider than any CLIP text encoder (bigG is 1280): checked from the header, before any data is read.
    public static let maxWidth = 8192

    /// [vectors, width] for a shape A1111 accepts ([D] or [n, D]), at most 75 vectors of at most `maxWidth`.
    static func matrixShape(_ shape: [Int], tensor: String, name: String) throws -> [Int] {
        let matrix: [Int]
        switch shape.count {
        case 1: matrix = [1, shape[0]]
        case 2: matrix = shape
        default:
            throw TextualInversionError.badShape(name: name, tensor: tensor, shape: shape, reason: "must be [width] or [vectors, width]")
        }
        guard (1...TextualInversion.maxVectors).contains(matrix[0]), (1...maxWidth).contains(matrix[1]) else {
            throw TextualInversionError.badShape(name: name, tensor: tensor, shape: shape,
                                                 reason: "must have 1...\(TextualInversion.maxVectors) vectors of width 1...\(maxWidth)")
        }
        return matrix
    }

    public static func load(path: String, name: String) throws -> TextualInversion {
        let source = try open(path: path, name: name)
        var vectors: [TextualInversionSlot: Tensor] = [:]
        for (slot, tensor) in try layout(source, name: name) {
            let shape = try matrixShape(source.shape(of: tensor) ?? [], tensor: tensor, name: name)
            let values: Tensor
            do { values = try source.tensor(tensor) } catch { throw TextualInversionError.unreadable(name: name, reason: "\(error)") }
            vectors[slot] = try checked(values, shape: shape, tensor: tensor, name: name)
        }
        return try TextualInversion(name: name, vectors: vectors)
    }

    /// An embedding a LoRA bundles (`LoRABundledEmbedding`), by the same layout and shape rules as a file.
    public static func load(bundled bundle: LoRABundledEmbedding) throws -> TextualInversion {
        var vectors: [TextualInversionSlot: Tensor] = [:]
        for (slot, key) in try layout(names: bundle.tensors.keys.sorted(), name: bundle.name) {
            guard let values = bundle.tensors[key] else { continue }
            let shape = try matrixShape(values.shape, tensor: key, name: bundle.name)
            vectors[slot] = try checked(values, shape: shape, tensor: key, name: bundle.name)
        }
        return try TextualInversion(name: bundle.name, vectors: vectors)
    }

    static func checked(_ values: Tensor, shape: [Int], tensor: String, name: String) throws -> Tensor {
        guard values.count == shape.reduce(1, *) else {
            throw TextualInversionError.badShape(name: name, tensor: tensor, shape: values.shape, reason: "its data does not fill its shape")
        }
        guard values.scalars.allSatisfy(\.isFinite) else {
            throw TextualInversionError.badShape(name: name, tensor: tensor, shape: shape, reason: "holds NaN or infinite values")
        }
        return values.reshaped(shape)
    }

    /// Slot shapes [vectors, width] from the headers only.
    public static func describe(path: String, name: String) throws -> [TextualInversionSlot: [Int]] {
        let source = try open(path: path, name: name)
        var shapes: [TextualInversionSlot: [Int]] = [:]
        for (slot, tensor) in try layout(source, name: name) {
            shapes[slot] = try matrixShape(source.shape(of: tensor) ?? [], tensor: tensor, name: name)
        }
        return shapes
    }

    static func open(path: String, name: String) throws -> any TensorSource {
        do { return try WeightsLoader.open(path: path) } catch { throw TextualInversionError.unreadable(name: name, reason: "\(error)") }
    }
}
