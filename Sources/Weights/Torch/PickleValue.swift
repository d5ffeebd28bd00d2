/// What the restricted unpickler can build: plain data, the containers a state dict uses, and the
/// few torch/numpy objects it knows how to decode. No Python object is ever instantiated.
///
/// Containers are reference types registered in an arena: pickles mutate lists/dicts after
/// memoising them, and the arena lets the unpickler break every reference at the end, so deeply
/// nested or self-referencing input cannot cause deep recursive releases or leaks.
enum PickleValue {
    case none
    case bool(Bool)
    case int(Int)
    case float(Double)
    case string(String)
    case bytes([UInt8])
    case tuple(PickleTuple)
    case list(PickleList)
    case dict(PickleDict)
    case global(PickleGlobal)
    case storage(StorageRef)
    case tensor(TensorRecord)
    case numpyDType(NumpyDType)
    /// A numpy scalar (e.g. `global_step`); `value` is nil for kinds that are not plain numbers.
    case numpyScalar(value: Double?)

    var typeName: String {
        switch self {
        case .none: return "None"
        case .bool: return "bool"
        case .int: return "int"
        case .float: return "float"
        case .string: return "str"
        case .bytes: return "bytes"
        case .tuple: return "tuple"
        case .list: return "list"
        case .dict: return "dict"
        case let .global(g): return "global \(g.qualifiedName)"
        case .storage: return "storage"
        case .tensor: return "tensor"
        case .numpyDType: return "numpy.dtype"
        case .numpyScalar: return "numpy scalar"
        }
    }
}

final class PickleTuple {
    var items: [PickleValue]
    /// Nesting depth through tuples, bounded so releases can never recurse deeply.
    let depth: Int
    init(_ items: [PickleValue], depth: Int) { self.items = items; self.depth = depth }
}

final class PickleList {
    var items: [PickleValue] = []
}

final class PickleDict {
    var entries: [(key: PickleValue, value: PickleValue)] = []

    /// Value for a string key (state dict keys are strings); the last assignment wins as in Python.
    func value(forKey key: String) -> PickleValue? {
        for e in entries.reversed() {
            if case let .string(k) = e.key, k == key { return e.value }
        }
        return nil
    }
}

/// The only globals a pickle may reference. Anything else is refused by name.
enum PickleGlobal: Equatable {
    case orderedDict
    case rebuildTensorV2
    case rebuildParameter
    case rebuildParameterWithState
    case storageType(DType, name: String)
    case torchSize
    case numpyScalar(module: String)
    case numpyDType
    case codecsEncode
    /// Classes that full training checkpoints mention as plain markers (PyTorch Lightning keys its
    /// `callbacks` dict by the callback class). Usable only as inert values: never called.
    case inertClass(String)

    init?(module: String, name: String) {
        switch (module, name) {
        case ("collections", "OrderedDict"): self = .orderedDict
        case ("torch._utils", "_rebuild_tensor_v2"): self = .rebuildTensorV2
        case ("torch._utils", "_rebuild_parameter"): self = .rebuildParameter
        case ("torch._utils", "_rebuild_parameter_with_state"): self = .rebuildParameterWithState
        case ("torch", "Size"): self = .torchSize
        case ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"): self = .numpyScalar(module: module)
        case ("numpy", "dtype"): self = .numpyDType
        // Protocol-2 pickles encode `bytes` as _codecs.encode(str, "latin1"): pure data conversion.
        case ("_codecs", "encode"): self = .codecsEncode
        case ("pytorch_lightning.callbacks.model_checkpoint", "ModelCheckpoint"),
             ("pytorch_lightning.callbacks", "ModelCheckpoint"):
            self = .inertClass("\(module).\(name)")
        case ("torch", _):
            let types: [String: DType] = [
                "FloatStorage": .f32, "HalfStorage": .f16, "BFloat16Storage": .bf16, "DoubleStorage": .f64,
                "LongStorage": .i64, "IntStorage": .i32, "ShortStorage": .i16, "CharStorage": .i8,
                "ByteStorage": .u8, "BoolStorage": .bool,
            ]
            guard let t = types[name] else { return nil }
            self = .storageType(t, name: name)
        default: return nil
        }
    }

    var qualifiedName: String {
        switch self {
        case .orderedDict: return "collections.OrderedDict"
        case .rebuildTensorV2: return "torch._utils._rebuild_tensor_v2"
        case .rebuildParameter: return "torch._utils._rebuild_parameter"
        case .rebuildParameterWithState: return "torch._utils._rebuild_parameter_with_state"
        case let .storageType(_, name): return "torch.\(name)"
        case .torchSize: return "torch.Size"
        case let .numpyScalar(module): return "\(module).scalar"
        case .numpyDType: return "numpy.dtype"
        case .codecsEncode: return "_codecs.encode"
        case let .inertClass(name): return name
        }
    }
}

/// A storage from a persistent id ('storage', torch.XStorage, key, location, numel): data/<key>.
struct StorageRef: Equatable {
    let key: String
    let dtype: DType
    let count: Int
}

/// A tensor view of a storage, as torch._utils._rebuild_tensor_v2 describes it (element units).
struct TensorRecord: Equatable {
    let storage: StorageRef
    let offset: Int
    let shape: [Int]
    let stride: [Int]
}

struct NumpyDType: Equatable {
    var code: String          // e.g. "i8", "f4"
    var byteOrder: String = "<"
}
