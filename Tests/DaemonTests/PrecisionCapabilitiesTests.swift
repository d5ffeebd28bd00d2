import DiffusionProtocol
import Foundation
import XCTest

extension StartupConfigTests {
    /// `capabilities.precision` says what the daemon computes in and what it saw on this CPU.
    func testCapabilitiesReportPrecisionsAndCPUFlags() throws {
        let dir = try TempDir()
        let daemon = try DaemonProcess(arguments: [], withChecksumPlugin: false, dir: dir)
        defer { daemon.stop() }
        let caps = try daemon.connect().call(id: .integer(1), method: "capabilities", timeout: 10)
        let precision = try XCTUnwrap(caps["result"]?["precision"], "\(caps)")
        XCTAssertEqual(precision["available"], ["fp32", "bf16"])
        XCTAssertEqual(precision["fast"], ["fp32"])
        let flags = precision["cpu_flags"]?.arrayValue?.compactMap(\.stringValue) ?? []
        let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        XCTAssertEqual(flags.contains("avx512_bf16"), cpuinfo.contains(" avx512_bf16"), "\(flags)")
        XCTAssertEqual(precision["bf16_hardware"]?.stringValue,
                       cpuinfo.contains(" amx_bf16") ? "amx" : cpuinfo.contains(" avx512_bf16") ? "avx512_bf16" : "none")
        XCTAssertNotNil(precision["reason"]?.stringValue)
    }
}
