/// One progress report from a running job; the daemon turns it into a `progress` notification.
public struct ProgressUpdate: Sendable, Equatable {
    public var stage: String
    public var step: Int?
    public var steps: Int?
    public var tile: Int?
    public var tiles: Int?
    public var elapsedSeconds: Double
    /// Linear extrapolation from the fraction done; nil until something is done.
    public var remainingSeconds: Double?

    /// Fraction of the job done in [0, 1], from tiles and steps (tiles outermost).
    public var fraction: Double? {
        let stepFraction = (step.flatMap { s in steps.flatMap { $0 > 0 ? Double(s) / Double($0) : nil } })
        if let tile, let tiles, tiles > 0 {
            return (Double(tile - 1) + (stepFraction ?? 1)) / Double(tiles)
        }
        return stepFraction
    }
}
