import Tensor

/// A view of a checkpoint under other names: each exposed name reads one original tensor, possibly
/// reshaped or cut. Built by `LDMToDiffusers` after strict validation, so every lookup is a table hit.
public struct MappedTensorSource: TensorSource, @unchecked Sendable {
    /// How an exposed tensor is made from its original.
    public enum Transform: Equatable, Sendable {
        case identity
        /// A 1x1 convolution weight [O, I, 1, 1] used as a linear weight [O, I] (LDM's VAE attention);
        /// an original that is already [O, I] passes through.
        case squeezeConv1x1
        /// Rows `part` of `parts` equal blocks along dimension 0 (OpenCLIP's fused q/k/v in_proj).
        case rows(part: Int, parts: Int)
        /// A 2-D matrix transposed: OpenCLIP's `text_projection` is stored [hidden, proj] (used as `x @ P`),
        /// transformers' `text_projection.weight` is the Linear weight [proj, hidden].
        case transpose
    }

    public struct Origin: Equatable, Sendable {
        public let name: String
        public let transform: Transform
        /// Shape after the transform.
        public let shape: [Int]
    }

    public let base: any TensorSource
    public let table: [String: Origin]
    public let names: [String]

    init(base: any TensorSource, table: [String: Origin]) {
        self.base = base
        self.table = table
        self.names = table.keys.sorted()
    }

    public func origin(of name: String) -> Origin? { table[name] }

    public func shape(of name: String) -> [Int]? { table[name]?.shape }

    public func tensor(_ name: String) throws -> Tensor {
        guard let origin = table[name] else {
            throw WeightsError.tensorNotFound(path: "<diffusers view>", tensor: name)
        }
        let original = try base.tensor(origin.name)
        switch origin.transform {
        case .identity:
            return original
        case .squeezeConv1x1:
            return original.reshaped(origin.shape)
        case let .rows(part, parts):
            let rows = original.shape[0] / parts
            let rowSize = original.count / max(original.shape[0], 1)
            let start = part * rows * rowSize
            return original.withUnsafeBufferPointer { buffer in
                Tensor(shape: origin.shape, values: Array(buffer[start..<(start + rows * rowSize)]))
            }
        case .transpose:
            let (rows, columns) = (original.shape[0], original.shape[1])
            return original.withUnsafeBufferPointer { buffer in
                var values = [Float](repeating: 0, count: buffer.count)
                for r in 0..<rows {
                    for c in 0..<columns { values[c * rows + r] = buffer[r * columns + c] }
                }
                return Tensor(shape: origin.shape, values: values)
            }
        }
    }
}
