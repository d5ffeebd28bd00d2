/// The members of the `capabilities` result that the daemon itself fills; plugins may add others.
enum CapabilitiesDocument {
    static let daemonMembers: Set<String> = [
        "protocol_version", "daemon_version", "methods", "operations", "limits", "blas_core", "threads",
    ]
}
