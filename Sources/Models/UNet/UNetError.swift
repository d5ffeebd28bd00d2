/// Errors of a UNet forward pass: inputs whose shapes do not fit the loaded network.
public enum UNetError: Error, Equatable, CustomStringConvertible {
    case latentShape(found: [Int], expectedChannels: Int)
    case timestepCount(found: Int, batch: Int)
    case contextShape(found: [Int], batch: Int, expectedDim: Int)

    public var description: String {
        switch self {
        case let .latentShape(found, channels):
            return "latents have shape \(found), expected [N, \(channels), H, W]"
        case let .timestepCount(found, batch):
            return "\(found) timesteps for a batch of \(batch) (expected 1 or \(batch))"
        case let .contextShape(found, batch, dim):
            return "context has shape \(found), expected [\(batch), L, \(dim)]"
        }
    }
}
