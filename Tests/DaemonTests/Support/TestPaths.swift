import Foundation

/// Where the tests find the package, the built executables and fixtures (relative to this file, so no
/// SwiftPM resources are needed).
enum TestPaths {
    static let packageRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let fixtures = packageRoot.appendingPathComponent("Tests/DaemonTests/Fixtures").path
    static let transcripts = packageRoot.appendingPathComponent("protocol/examples").path
    static let pluginHeaderDir = packageRoot.appendingPathComponent("protocol/c").path
    static let checksumSource = packageRoot.appendingPathComponent("examples/plugins/checksum/checksum.c").path
    static let pythonClient = packageRoot.appendingPathComponent("examples/python/diffusiond_client.py").path

    /// `swift build` puts executables next to the test bundle; fall back to .build/debug.
    static func executable(_ name: String) -> String? {
        var candidates: [String] = []
        if let env = ProcessInfo.processInfo.environment["DIFFUSIOND_BIN_DIR"] { candidates.append(env + "/" + name) }
        let bundleDir = URL(fileURLWithPath: CommandLine.arguments.first ?? "").deletingLastPathComponent()
        candidates.append(bundleDir.appendingPathComponent(name).path)
        for bundle in Bundle.allBundles where bundle.bundlePath.hasSuffix(".xctest") {
            candidates.append(URL(fileURLWithPath: bundle.bundlePath).deletingLastPathComponent().appendingPathComponent(name).path)
        }
        candidates.append(packageRoot.appendingPathComponent(".build/debug/\(name)").path)
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}
