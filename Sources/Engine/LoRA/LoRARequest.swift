/// One adapter a request asks for: the file's name in `loras/` and its strengths. `weight` applies to both the
/// text encoders and the UNet unless `textEncoderWeight` / `unetWeight` say otherwise (A1111's `te=`/`unet=`).
public struct LoRARequest: Equatable, Sendable {
    public var name: String
    public var weight: Double
    public var textEncoderWeight: Double?
    public var unetWeight: Double?
    /// A1111's DyLoRA `dyn=N`: apply only the first N ranks of each module (nil: all); must be ≥ 1.
    public var dyn: Int?
    /// Where the request named it (`loras[1]`, `prompt`), for errors.
    public var field: String
    /// The prompt tag it came from (`<lora:ink:0.6>`), named in errors with the field.
    public var tag: String?

    public init(name: String, weight: Double = 1, textEncoderWeight: Double? = nil, unetWeight: Double? = nil,
                dyn: Int? = nil, field: String, tag: String? = nil) {
        self.tag = tag
        self.dyn = dyn
        self.name = name
        self.weight = weight
        self.textEncoderWeight = textEncoderWeight
        self.unetWeight = unetWeight
        self.field = field
    }

    public var effectiveTextEncoderWeight: Double { textEncoderWeight ?? weight }
    public var effectiveUNetWeight: Double { unetWeight ?? weight }
}
