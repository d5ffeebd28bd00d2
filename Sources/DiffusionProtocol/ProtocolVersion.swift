/// Versions reported by `capabilities`. The protocol version changes only on incompatible wire changes.
public enum ProtocolVersion {
    public static let protocolVersion = "1.0"
    public static let daemonVersion = "0.1.0"
}
