/// Errors of a ControlNet forward pass: a control image that does not fit the network or the latents.
public enum ControlNetError: Error, Equatable, CustomStringConvertible {
    /// The control image must be [N, conditioning channels, H × f, W × f] for latents [N, C, H, W].
    case hintShape(found: [Int], expected: [Int])

    public var description: String {
        switch self {
        case let .hintShape(found, expected):
            return "control image tensor has shape \(found), expected \(expected)"
        }
    }
}
