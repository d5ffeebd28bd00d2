import Weights

/// What a ControlNet single file does not record: the head counts and norm groups of its family (as for
/// checkpoints, `SingleFileConventions`), and, for SDXL, the pooled text width that with six time ids fills the
/// added embedding's input (so the time-id width follows).
public struct ControlNetOptions: Equatable, Sendable {
    /// nil: the detected family's own conventions.
    public var conventions: SingleFileConventions?
    /// SDXL base's bigG projection width (1280; 2816 = 1280 + 6 × 256).
    public var sdxlPooledWidth: Int

    public init(conventions: SingleFileConventions? = nil, sdxlPooledWidth: Int = 1280) {
        self.conventions = conventions
        self.sdxlPooledWidth = sdxlPooledWidth
    }
}
