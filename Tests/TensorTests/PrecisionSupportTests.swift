import CPUFeatures
import Foundation
@testable import Tensor
import XCTest

/// Run-time CPU detection for precision choices: decoded from injected CPUID/XCR0 words (any CPU, including
/// ones with flags the OS does not enable), and on this machine cross-checked against the kernel's own view.
final class PrecisionSupportTests: XCTestCase {
    /// XCR0 with SSE/AVX, AVX-512 and AMX tile state enabled.
    static let allState: UInt64 = 0x6 | 0xE0 | 0x60000
    static let avx512F: UInt32 = 1 << 16, avx2: UInt32 = 1 << 5, amxTile: UInt32 = 1 << 24, amxBF16: UInt32 = 1 << 22
    static let bf16InLeaf7_1: UInt32 = 1 << 5
    static let avxF16CFma: UInt32 = (1 << 28) | (1 << 29) | (1 << 12) | (1 << 27)

    func words(ebx: UInt32 = avx512F | avx2, edx: UInt32 = 0, leaf7_1: UInt32 = 0, xcr0: UInt64 = allState,
               osxsave: Bool = true) -> cpu_id_words_t {
        cpu_id_words_t(max_leaf: 13, leaf1_ecx: Self.avxF16CFma, leaf7_ebx: ebx, leaf7_edx: edx, leaf7_1_eax: leaf7_1,
                       osxsave: osxsave ? 1 : 0, xcr0: xcr0)
    }

    func testSapphireRapidsLikeCPUWithPermissionHasAMX() {
        let f = cpu_features_decode(words(edx: Self.amxTile | Self.amxBF16, leaf7_1: Self.bf16InLeaf7_1))
        XCTAssertEqual(f.amx_bf16, 1)
        let granted = PrecisionSupport(features: f, amxGranted: true)
        XCTAssertEqual(granted.bf16Hardware, .amx)
        XCTAssertEqual(granted.amxGranted, true)
        XCTAssertTrue(granted.cpuFlags.contains("amx_bf16") && granted.cpuFlags.contains("avx512_bf16"), "\(granted.cpuFlags)")

        let refused = PrecisionSupport(features: f, amxGranted: false)
        XCTAssertEqual(refused.bf16Hardware, .avx512bf16, "without the kernel's permission tiles are unusable")
        XCTAssertEqual(refused.amxGranted, false)
        XCTAssertTrue(refused.reason.contains("refused"), refused.reason)
    }

    func testEPYCLikeCPUHasAVX512BF16Only() {
        let support = PrecisionSupport(features: cpu_features_decode(words(leaf7_1: Self.bf16InLeaf7_1)), amxGranted: nil)
        XCTAssertEqual(support.bf16Hardware, .avx512bf16)
        XCTAssertNil(support.amxGranted, "no AMX: permission is not asked for")
        XCTAssertEqual(support.fast, ["fp32"], "AVX512_BF16 alone is slower than fp32")
    }

    /// Flags the CPU has but the OS does not save (XCR0) are unusable: the fallback is chosen.
    func testFlagsWithoutOSStateAreAbsent() {
        let noTiles = cpu_features_decode(words(edx: Self.amxTile | Self.amxBF16, leaf7_1: Self.bf16InLeaf7_1, xcr0: 0x6 | 0xE0))
        XCTAssertEqual(noTiles.amx_tile, 0)
        XCTAssertEqual(noTiles.amx_bf16, 0)
        XCTAssertEqual(noTiles.avx512bf16, 1)

        let noZMM = cpu_features_decode(words(leaf7_1: Self.bf16InLeaf7_1, xcr0: 0x6))
        XCTAssertEqual(noZMM.avx512f, 0)
        XCTAssertEqual(noZMM.avx512bf16, 0, "vdpbf16ps needs zmm state")
        XCTAssertEqual(noZMM.avx2, 1)
        XCTAssertEqual(PrecisionSupport(features: noZMM, amxGranted: nil).bf16Hardware, .none)

        let noXSAVE = cpu_features_decode(words(edx: Self.amxTile | Self.amxBF16, leaf7_1: Self.bf16InLeaf7_1, osxsave: false))
        XCTAssertEqual(PrecisionSupport(features: noXSAVE, amxGranted: nil).cpuFlags, [])
    }

    /// This machine: what CPUID/XGETBV say agrees with the flags Linux lists in /proc/cpuinfo (which it
    /// clears for features it does not enable).
    func testDetectionAgreesWithTheKernelOnThisMachine() throws {
        guard let cpuinfo = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let line = cpuinfo.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else {
            throw XCTSkip("no /proc/cpuinfo flags line")
        }
        let kernel = Set(line.split(separator: ":").last.map { $0.split(separator: " ").map(String.init) } ?? [])
        let support = PrecisionSupport.detect(requestAMX: false)
        for flag in ["avx2", "f16c", "avx512f", "avx512bw", "avx512_bf16", "amx_tile", "amx_bf16"] {
            XCTAssertEqual(support.cpuFlags.contains(flag), kernel.contains(flag), "\(flag): CPUID vs /proc/cpuinfo")
        }
        XCTAssertEqual(support.available, ["fp32", "bf16"], "bf16 runs on any CPU (the scalar kernel is the fallback)")
        XCTAssertFalse(support.reason.isEmpty)
    }
}
