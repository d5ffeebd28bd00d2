/// Errors of a UNet forward pass: inputs whose shapes do not fit the loaded network.
public enum UNetError: Error, Equatable, CustomStringConvertible {
    case latentShape(found: [Int], expectedChannels: Int)
    case timestepCount(found: Int, batch: Int)
    case contextShape(found: [Int], batch: Int, expectedDim: Int)
    /// Added conditioning (SDXL's text embeds + time ids) given to a UNet without `add_embedding`.
    case addedConditioningUnsupported
    /// A UNet with `addition_embed_type "text_time"` (SDXL) called without its text embeds and time ids.
    case addedConditioningMissing
    /// Text embeds [N, P] and time ids [N, K] must match the batch and fill `add_embedding`'s input:
    /// P + K × timeIDWidth = inputWidth.
    case addedConditioningShape(textEmbeds: [Int], timeIDs: [Int], batch: Int, inputWidth: Int, timeIDWidth: Int)
    case controlResidualCount(found: Int, skipConnections: Int)
    /// `index` is the skip connection's, or nil for the mid-block residual.
    case controlResidualShape(index: Int?, found: [Int], expected: [Int])
    /// A T2I-Adapter feature map that does not fit the down block it is added in.
    case adapterFeatureShape(block: Int, found: [Int], expected: [Int])

    public var description: String {
        switch self {
        case let .latentShape(found, channels):
            return "latents have shape \(found), expected [N, \(channels), H, W]"
        case let .timestepCount(found, batch):
            return "\(found) timesteps for a batch of \(batch) (expected 1 or \(batch))"
        case let .contextShape(found, batch, dim):
            return "context has shape \(found), expected [\(batch), L, \(dim)]"
        case .addedConditioningUnsupported:
            return "added conditioning (text embeds, time ids) given to a UNet without addition_embed_type"
        case .addedConditioningMissing:
            return "this UNet (addition_embed_type \"text_time\") needs added conditioning: text embeds and time ids"
        case let .addedConditioningShape(text, ids, batch, width, idWidth):
            return "text embeds \(text) and time ids \(ids) do not fit: expected [\(batch), P] and [\(batch), K] "
                + "with P + K × \(idWidth) = \(width)"
        case let .controlResidualCount(found, skips):
            return "\(found) down-block residuals for a UNet with \(skips) skip connections"
        case let .controlResidualShape(index, found, expected):
            let which = index.map { "down-block residual \($0)" } ?? "mid-block residual"
            return "\(which) has shape \(found), expected \(expected)"
        case let .adapterFeatureShape(block, found, expected):
            return "adapter feature \(block) has shape \(found), but down block \(block) produces \(expected)"
        }
    }
}
