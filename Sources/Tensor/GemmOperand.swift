/// One matrix of a GEMM as it lies in memory: float32, or 16-bit resident weights that `Gemm` widens a
/// panel at a time (no BLAS multiplies float32 by half-precision operands).
public struct GemmOperand {
    public let address: UnsafeRawPointer
    public let elementType: TensorElementType

    public init(_ pointer: UnsafePointer<Float>) {
        address = UnsafeRawPointer(pointer)
        elementType = .float32
    }

    public init(address: UnsafeRawPointer, elementType: TensorElementType) {
        self.address = address
        self.elementType = elementType
    }

    /// The whole storage (the caller keeps it alive for the product).
    public init(_ storage: TensorStorage) {
        self.init(address: UnsafeRawPointer(storage.address), elementType: storage.elementType)
    }

    /// The operand starting `elements` further on.
    func advanced(by elements: Int) -> GemmOperand {
        GemmOperand(address: address + elements * elementType.byteWidth, elementType: elementType)
    }

    /// The float32 elements; only for float32 operands.
    var floats: UnsafePointer<Float> {
        precondition(elementType == .float32, "GemmOperand.floats on a \(elementType) operand")
        return address.assumingMemoryBound(to: Float.self)
    }
}
