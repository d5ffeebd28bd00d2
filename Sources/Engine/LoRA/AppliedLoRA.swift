/// One adapter a patched model was built with, in application order, as the PNG `parameters` text records it.
public struct AppliedLoRA: Sendable, Equatable {
    public let name: String
    public let textEncoderWeight: Double
    public let unetWeight: Double
    /// The DyLoRA rank limit it was applied with (`dyn=`), nil for all ranks.
    public let dyn: Int?
    /// The file it was read from (for its A1111 hash).
    public let path: String

    public init(name: String, textEncoderWeight: Double, unetWeight: Double, dyn: Int? = nil, path: String) {
        self.dyn = dyn
        self.name = name
        self.textEncoderWeight = textEncoderWeight
        self.unetWeight = unetWeight
        self.path = path
    }
}
