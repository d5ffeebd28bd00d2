/// Why a LoRA / LyCORIS file cannot be used, naming the file and, where one is at fault, the module.
public enum LoRAFileError: Error, Equatable, Sendable, CustomStringConvertible {
    case unreadable(path: String, reason: String)
    case unsupportedExtension(path: String)
    /// A module whose tensors do not form any known adapter type (e.g. `lora_up` without `lora_down`).
    case incompleteModule(path: String, module: String, found: [String])
    case badShape(path: String, module: String, detail: String)
    case noAdapterTensors(path: String)

    public var description: String {
        switch self {
        case let .unreadable(path, reason): return "\(path) cannot be read: \(reason)"
        case let .unsupportedExtension(path): return "\(path): not a .safetensors, .pt, .ckpt or .bin file"
        case let .incompleteModule(path, module, found):
            return "\(path): module \(module) has only \(found.joined(separator: ", ")), which is no LoRA/LyCORIS type"
        case let .badShape(path, module, detail): return "\(path): module \(module): \(detail)"
        case let .noAdapterTensors(path): return "\(path) holds no LoRA or LyCORIS tensors"
        }
    }
}
