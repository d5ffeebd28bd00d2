/// Which network of a model an adapter module patches.
public enum LoRAComponent: Hashable, Sendable, CustomStringConvertible {
    case unet
    case textEncoder(TextEncoderSlot)

    public var description: String {
        switch self {
        case .unet: return "unet"
        case let .textEncoder(slot): return slot.rawValue
        }
    }

    public var isTextEncoder: Bool { self != .unet }
}

/// The weight(s) one adapter module lands on, by diffusers tensor name.
public enum LoRATarget: Hashable, Sendable {
    case weight(String)
    /// OpenCLIP's fused `in_proj` (stored split as q/k/v in our networks): the module's ΔW rows go to these
    /// weights in order, an equal share each.
    case fusedRows([String])

    public var weightNames: [String] {
        switch self {
        case let .weight(name): return [name]
        case let .fusedRows(names): return names
        }
    }
}
