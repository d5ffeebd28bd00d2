import StrictJSON
import Builtins
import Daemon
import DiffusionProtocol
import PluginAPI
import XCTest

/// Plugins contribute top-level `capabilities` members; the registry merges them and refuses conflicts.
final class CapabilityMembersTests: XCTestCase {
    struct Contributor: OperationPlugin {
        var method: String
        var capabilities: [String: JSONValue]
        var summary: String { "test" }
        var paramsSchema: JSONValue { ["type": "object"] }
        var resultSchema: JSONValue? { nil }
        func run(params: [String: JSONValue], context: JobContext) throws -> JSONValue { [:] }
    }

    func testBuiltinGenerationPluginsPublishSamplersSchedulersAndRngs() throws {
        let registry = try PluginRegistry(builtin: BuiltinPlugins.all())
        XCTAssertEqual(Set(registry.capabilityMembers.keys), ["samplers", "schedulers", "rngs"])
        XCTAssertEqual(registry.capabilityMembers["rngs"], ["cpu", "cuda"])
    }

    func testSameMemberWithSameValueMergesAndAConflictIsRefused() throws {
        var registry = PluginRegistry()
        try registry.register(Contributor(method: "a", capabilities: ["widgets": ["x"]]))
        try registry.register(Contributor(method: "b", capabilities: ["widgets": ["x"]]))
        XCTAssertEqual(registry.capabilityMembers, ["widgets": ["x"]])
        XCTAssertThrowsError(try registry.register(Contributor(method: "c", capabilities: ["widgets": ["y"]])))
        XCTAssertThrowsError(try registry.register(Contributor(method: "d", capabilities: ["limits": [:]])),
                             "the daemon's own members are not a plugin's to set")
        XCTAssertNil(registry["c"])
    }
}
