/// SDXL's `crops_coords_top_left`: where the training crop started, in pixels (top = y, left = x).
public struct CropCoordinates: Equatable, Hashable, Sendable, CustomStringConvertible {
    public var top: Int
    public var left: Int

    public init(top: Int, left: Int) {
        self.top = top
        self.left = left
    }

    public static let zero = CropCoordinates(top: 0, left: 0)

    public var description: String { "(\(top), \(left))" }
}
