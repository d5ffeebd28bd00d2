import Tensor

/// Which text encoder's vectors of an embedding a prompt encoder takes: the only set of an SD 1.x/2.x file, or
/// an SDXL file's `clip_l` (first encoder) / `clip_g` (second encoder, also the refiner's only one).
public enum TextualInversionSlot: String, Sendable, Hashable, CaseIterable {
    case single
    case clipL = "clip_l"
    case clipG = "clip_g"
}

/// A textual-inversion embedding: the vectors that replace its name's tokens in a prompt (A1111's rule), one
/// matrix [vectors, width] per slot. Value type; loaded from a file by `TextualInversion.load`.
public struct TextualInversion: Sendable {
    /// Its name in the embeddings folder (relative path without extension): the word that uses it.
    public let name: String
    public let vectors: [TextualInversionSlot: Tensor]
    /// Rows per slot (equal in every slot, checked when built).
    public let vectorCount: Int

    /// A1111 reads at most one 75-token chunk per embedding (it is never split across chunks).
    public static let maxVectors = 75

    public init(name: String, vectors: [TextualInversionSlot: Tensor]) throws {
        guard !vectors.isEmpty else { throw TextualInversionError.unrecognised(name: name, tensors: []) }
        var count: Int?
        for slot in TextualInversionSlot.allCases {
            guard let v = vectors[slot] else { continue }
            guard v.shape.count == 2, v.shape[0] >= 1, v.shape[1] >= 1 else {
                throw TextualInversionError.badShape(name: name, tensor: slot.rawValue, shape: v.shape, reason: "must be [vectors, width]")
            }
            guard v.shape[0] <= Self.maxVectors else {
                throw TextualInversionError.badShape(name: name, tensor: slot.rawValue, shape: v.shape,
                                                     reason: "more than \(Self.maxVectors) vectors do not fit in one 75-token chunk")
            }
            if let count, count != v.shape[0] {
                throw TextualInversionError.badShape(name: name, tensor: slot.rawValue, shape: v.shape,
                                                     reason: "clip_l and clip_g must have the same number of vectors (\(count))")
            }
            count = v.shape[0]
        }
        self.name = name
        self.vectors = vectors
        vectorCount = count ?? 0
    }

    /// Widths per slot ([slot: D]).
    public var widths: [TextualInversionSlot: Int] { vectors.mapValues { $0.shape[1] } }

    /// `sd1` (768), `sd2` (1024), `sdxl` (clip_l + clip_g), else nil (see `TextualInversionFamily`).
    public var family: String? { TextualInversionFamily.name(widths: widths) }

    /// The vectors a prompt encoder of `width` in `slot` takes, or why not.
    public func vectors(for slot: TextualInversionSlot, width: Int) throws -> Tensor {
        let expected = slot == .single ? "vectors of width \(width)" : "an SDXL embedding (clip_l + clip_g) with \(slot.rawValue) of width \(width)"
        guard let v = vectors[slot] else {
            throw TextualInversionError.wrongWidth(name: name, has: describeWidths, expected: expected)
        }
        guard v.shape[1] == width else {
            throw TextualInversionError.wrongWidth(name: name, has: describeWidths, expected: expected)
        }
        return v
    }

    var describeWidths: String {
        if vectors[.single] == nil {
            return "SDXL vectors (" + widths.sorted { $0.key.rawValue < $1.key.rawValue }
                .map { "\($0.key.rawValue) width \($0.value)" }.joined(separator: ", ") + ")"
        }
        return "vectors of width \(widths[.single] ?? 0)"
    }
}

/// The base family an embedding was trained for, from its widths alone (what `models.list` reports).
public enum TextualInversionFamily {
    public static func name(widths: [TextualInversionSlot: Int]) -> String? {
        if widths[.clipL] != nil, widths[.clipG] != nil { return "sdxl" }
        switch widths[.single] {
        case 768: return "sd1"
        case 1024: return "sd2"
        default: return nil
        }
    }
}
