/// Error codes: JSON-RPC 2.0's standard ones plus the daemon's own in -32000...-32099, and -32800 for a
/// cancelled request (the value LSP uses for "request cancelled").
public enum RPCErrorCode {
    public static let parseError: Int = -32700
    public static let invalidRequest: Int = -32600
    public static let methodNotFound: Int = -32601
    public static let invalidParams: Int = -32602
    public static let internalError: Int = -32603

    public static let busy: Int = -32000
    public static let fileNotFound: Int = -32001
    public static let unsupportedImage: Int = -32002
    public static let imageTooLarge: Int = -32003
    public static let outputExists: Int = -32004
    public static let pathNotAllowed: Int = -32005
    public static let jobNotFound: Int = -32006
    public static let modelNotFound: Int = -32007
    public static let outOfMemoryBudget: Int = -32008
    public static let lineTooLong: Int = -32009
    public static let shuttingDown: Int = -32010
    public static let pluginFailed: Int = -32011
    public static let writeFailed: Int = -32012

    public static let cancelled: Int = -32800
}
