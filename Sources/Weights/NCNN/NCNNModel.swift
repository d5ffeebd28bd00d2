import Tensor

/// One weight array of an ncnn layer, located in the memory-mapped .bin.
public struct NCNNWeight: Equatable, Sendable {
    public enum Encoding: Equatable, Sendable { case float32, float16 }
    /// "weight", "bias" (PReLU slopes are "weight", as PyTorch names them).
    public let role: String
    public let shape: [Int]
    public let encoding: Encoding
    /// Byte offset of the first element in the .bin (after any storage tag).
    public let offset: Int
}

/// An ncnn model (text .param + .bin) as used by the Real-ESRGAN ncnn releases. Weights are read in
/// layer order with ncnn's rules (see `load`): a Convolution/InnerProduct weight starts with a
/// 4-byte storage tag (0 = float32, 0x01306B47 = float16 padded to 4 bytes; int8 and quantised-table
/// storage are refused), its bias and PReLU slopes are raw float32 with no tag. The .bin must be
/// consumed exactly. As a TensorSource the names are "<layer name>.<role>", in ncnn's conv layout
/// [out, in, kh, kw], which is PyTorch's.
public struct NCNNModel: TensorSource, @unchecked Sendable {
    public static let fp16Tag: UInt32 = 0x0130_6B47
    public static let int8Tag: UInt32 = 0x000D_4B38
    public static let rawScaledTag: UInt32 = 0x0002_C056

    /// Layer types that carry no weights in the .bin.
    public static let weightlessTypes: Set<String> = [
        "Input", "Split", "Concat", "Eltwise", "BinaryOp", "Interp", "PixelShuffle", "ReLU", "Sigmoid",
        "TanH", "Clip", "Crop", "Noop", "Reshape", "Permute", "Flatten", "Padding", "Slice", "UnaryOp", "Softmax",
        "Pooling", "Dropout",
    ]

    public let paramPath: String
    public let binPath: String
    public let layers: [NCNNLayer]
    /// Weights of each layer, parallel to `layers`.
    public let weights: [[NCNNWeight]]
    public let names: [String]
    private let bin: MappedFile
    private let index: [String: NCNNWeight]

    public init(paramPath: String, binPath: String) throws {
        let paramFile = try MappedFile(path: paramPath)
        guard paramFile.size <= 64 << 20 else {
            throw WeightsError.invalidNCNNParam(path: paramPath, line: 0, detail: "file of \(paramFile.size) bytes is too large for a .param")
        }
        guard let text = String(validating: paramFile.bytes, as: UTF8.self) else {
            throw WeightsError.invalidNCNNParam(path: paramPath, line: 0, detail: "not UTF-8 text")
        }
        let layers = try NCNNParamParser.parse(text, path: paramPath)
        let bin = try MappedFile(path: binPath)
        var reader = BinReader(bytes: bin.bytes, path: binPath)
        var all: [[NCNNWeight]] = []
        var index: [String: NCNNWeight] = [:]
        var names: [String] = []
        for layer in layers {
            let w = try Self.load(layer, from: &reader, paramPath: paramPath, binPath: binPath)
            for x in w {
                let name = "\(layer.name).\(x.role)"
                index[name] = x
                names.append(name)
            }
            all.append(w)
        }
        guard reader.position == bin.size else {
            throw WeightsError.invalidNCNNBin(path: binPath, layer: layers.last?.name ?? "", offset: reader.position,
                                              detail: "\(bin.size - reader.position) bytes left over after the last layer (param/bin mismatch)")
        }
        self.paramPath = paramPath
        self.binPath = binPath
        self.layers = layers
        self.weights = all
        self.names = names
        self.bin = bin
        self.index = index
    }

    public func shape(of name: String) -> [Int]? { index[name]?.shape }

    public func tensor(_ name: String) throws -> Tensor {
        guard let w = index[name], let base = bin.bytes.baseAddress else {
            throw WeightsError.tensorNotFound(path: binPath, tensor: name)
        }
        let count = w.shape.reduce(1, *)
        let dtype: DType = w.encoding == .float16 ? .f16 : .f32
        guard let t = TensorMaterialisation.convert(base + w.offset, dtype: dtype, count: count, shape: w.shape) else {
            throw WeightsError.unsupportedDType(path: binPath, tensor: name, dtype: dtype.rawValue)
        }
        return t
    }

    // MARK: loading

    private struct BinReader {
        let bytes: UnsafeRawBufferPointer
        let path: String
        var position = 0

        mutating func take(_ n: Int, layer: String, what: String) throws -> Int {
            guard n >= 0, n <= bytes.count - position else {
                throw WeightsError.invalidNCNNBin(path: path, layer: layer, offset: position,
                                                  detail: "\(what) needs \(n) bytes, only \(bytes.count - position) remain (truncated .bin or param/bin mismatch)")
            }
            defer { position += n }
            return position
        }

        /// ncnn's "type 0" load: a 4-byte tag selects the storage.
        mutating func tagged(_ count: Int, layer: String, what: String) throws -> (NCNNWeight.Encoding, Int) {
            let at = try take(4, layer: layer, what: "\(what) storage tag")
            let tag = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: UInt32.self))
            switch tag {
            case 0, NCNNModel.rawScaledTag:
                return (.float32, try take(count * 4, layer: layer, what: what))
            case NCNNModel.fp16Tag:
                let offset = try take(count * 2, layer: layer, what: what)
                _ = try take((4 - (count * 2) % 4) % 4, layer: layer, what: "\(what) padding")
                return (.float16, offset)
            default:
                throw WeightsError.unsupportedNCNNStorage(path: path, layer: layer, offset: at, tag: tag)
            }
        }

        /// ncnn's "type 1" load: raw float32, no tag.
        mutating func raw(_ count: Int, layer: String, what: String) throws -> Int {
            try take(count * 4, layer: layer, what: what)
        }
    }

    private static func load(_ layer: NCNNLayer, from r: inout BinReader, paramPath: String, binPath: String) throws -> [NCNNWeight] {
        func bad(_ d: String) -> WeightsError { .invalidNCNNParam(path: paramPath, line: layer.line, detail: "layer '\(layer.name)': \(d)") }
        let p = layer.params
        switch layer.type {
        case "Convolution":
            let out = p.int(0, default: 0), kw = p.int(1, default: 0), kh = p.int(11, default: kw)
            let size = p.int(6, default: 0), bias = p.int(5, default: 0)
            guard out > 0, kw > 0, kh > 0, size > 0, size <= 1 << 30 else { throw bad("invalid num_output/kernel/weight_data_size") }
            guard size % (out * kh * kw) == 0 else { throw bad("weight_data_size \(size) is not num_output*kh*kw*in") }
            guard p.int(8, default: 0) == 0 else { throw bad("int8 quantised convolution is not supported") }
            guard p.int(7, default: 1) == 1 else { throw bad("grouped convolution is not supported") }
            let (enc, off) = try r.tagged(size, layer: layer.name, what: "weight")
            var w = [NCNNWeight(role: "weight", shape: [out, size / (out * kh * kw), kh, kw], encoding: enc, offset: off)]
            if bias != 0 {
                w.append(NCNNWeight(role: "bias", shape: [out], encoding: .float32, offset: try r.raw(out, layer: layer.name, what: "bias")))
            }
            return w
        case "InnerProduct":
            let out = p.int(0, default: 0), bias = p.int(1, default: 0), size = p.int(2, default: 0)
            guard out > 0, size > 0, size <= 1 << 30, size % out == 0 else { throw bad("invalid num_output/weight_data_size") }
            guard p.int(8, default: 0) == 0 else { throw bad("int8 quantised inner product is not supported") }
            let (enc, off) = try r.tagged(size, layer: layer.name, what: "weight")
            var w = [NCNNWeight(role: "weight", shape: [out, size / out], encoding: enc, offset: off)]
            if bias != 0 {
                w.append(NCNNWeight(role: "bias", shape: [out], encoding: .float32, offset: try r.raw(out, layer: layer.name, what: "bias")))
            }
            return w
        case "PReLU":
            let n = p.int(0, default: 0)
            guard n > 0, n <= 1 << 20 else { throw bad("invalid num_slope \(n)") }
            return [NCNNWeight(role: "weight", shape: [n], encoding: .float32, offset: try r.raw(n, layer: layer.name, what: "slopes"))]
        default:
            guard weightlessTypes.contains(layer.type) else {
                throw WeightsError.unsupportedNCNNLayer(path: paramPath, layer: layer.name, type: layer.type)
            }
            return []
        }
    }
}
