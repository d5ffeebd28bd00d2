import Foundation
import XCTest
import Tensor

final class OpenBLASRuntimeTests: XCTestCase {
    func testClassifiesCoreNames() {
        XCTAssertEqual(KernelClass(coreName: "Prescott"), .baseline)
        XCTAssertEqual(KernelClass(coreName: "Nehalem"), .baseline)
        XCTAssertEqual(KernelClass(coreName: "Barcelona"), .baseline)
        XCTAssertEqual(KernelClass(coreName: "Sandybridge"), .avx)
        XCTAssertEqual(KernelClass(coreName: "Bulldozer"), .avx)
        XCTAssertEqual(KernelClass(coreName: "Haswell"), .avx2)
        XCTAssertEqual(KernelClass(coreName: "Zen"), .avx2)
        XCTAssertEqual(KernelClass(coreName: "SkylakeX"), .avx512)
        XCTAssertEqual(KernelClass(coreName: "cooperlake"), .avx512)
        XCTAssertEqual(KernelClass(coreName: "SapphireRapids"), .avx512)
        XCTAssertNil(KernelClass(coreName: "SomeFutureCore"))
    }

    func testWeakKernelOnAVX512CPUReexecsWithSkylakeX() {
        XCTAssertEqual(OpenBLASRuntime.decision(loadedCore: "Prescott", cpuClass: .avx512, userSet: false),
                       .reexec(coreType: "SkylakeX"))
        XCTAssertEqual(OpenBLASRuntime.decision(loadedCore: "Haswell", cpuClass: .avx512, userSet: false),
                       .reexec(coreType: "SkylakeX"))
    }

    func testWeakKernelOnAVX2CPUReexecsWithHaswell() {
        XCTAssertEqual(OpenBLASRuntime.decision(loadedCore: "Core2", cpuClass: .avx2, userSet: false),
                       .reexec(coreType: "Haswell"))
        XCTAssertEqual(OpenBLASRuntime.decision(loadedCore: "Sandybridge", cpuClass: .avx2, userSet: false),
                       .reexec(coreType: "Haswell"))
    }

    func testKeepsWhenUserSetRetriedMatchingOrUnknown() {
        func keeps(_ decision: KernelDecision) -> Bool {
            if case .keep = decision { return true }
            return false
        }
        XCTAssertTrue(keeps(OpenBLASRuntime.decision(loadedCore: "Prescott", cpuClass: .avx512, userSet: true)))
        XCTAssertTrue(keeps(OpenBLASRuntime.decision(loadedCore: "Prescott", cpuClass: .avx512, userSet: false,
                                                     alreadyRetried: true)))
        XCTAssertTrue(keeps(OpenBLASRuntime.decision(loadedCore: "Cooperlake", cpuClass: .avx512, userSet: false)))
        XCTAssertTrue(keeps(OpenBLASRuntime.decision(loadedCore: "Zen", cpuClass: .avx2, userSet: false)))
        XCTAssertTrue(keeps(OpenBLASRuntime.decision(loadedCore: "SkylakeX", cpuClass: .avx2, userSet: false)))
        XCTAssertTrue(keeps(OpenBLASRuntime.decision(loadedCore: "Prescott", cpuClass: .avx, userSet: false)),
                      "no AVX2: there is no faster kernel worth forcing")
        XCTAssertTrue(keeps(OpenBLASRuntime.decision(loadedCore: "Mystery", cpuClass: .avx512, userSet: false)))
    }

    func testLoadedCoreIsNamedAndNotWeakerThanTheCPU() {
        // The library is loaded: a real name must come back, and in this test process (where the user
        // may set OPENBLAS_CORETYPE) the live decision must be consistent with the pure function.
        let name = OpenBLASRuntime.corename()
        XCTAssertFalse(name.isEmpty)
        let userSet = ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] != nil
        let decision = OpenBLASRuntime.decision(loadedCore: name, cpuClass: KernelClass.currentCPU, userSet: userSet)
        if case .reexec(let target) = decision {
            // Not a failure of our code, but worth seeing: the daemon would restart with `target`.
            print("note: this test process runs OpenBLAS \(name); the daemon would re-exec with \(target)")
        }
    }

    /// The mechanism ensureFastKernel relies on: a process started with OPENBLAS_CORETYPE gets that
    /// kernel. Runs this test binary again with the variable set and checks what the child loaded.
    func testCoreTypeVariableSelectsTheKernelInAChild() throws {
        if let requested = ProcessInfo.processInfo.environment["TENSORTESTS_EXPECT_CORE"] {
            // Child side: report what got loaded.
            print("LOADED_CORE=\(OpenBLASRuntime.corename()) REQUESTED=\(requested)")
            return
        }
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        guard executable.lastPathComponent.hasSuffix(".xctest") else {
            throw XCTSkip("not running inside an .xctest bundle executable (\(executable.path))")
        }
        let process = Process()
        process.executableURL = executable
        process.arguments = ["TensorTests.OpenBLASRuntimeTests/testCoreTypeVariableSelectsTheKernelInAChild"]
        var environment = ProcessInfo.processInfo.environment
        environment["OPENBLAS_CORETYPE"] = "Prescott"
        environment["TENSORTESTS_EXPECT_CORE"] = "Prescott"
        process.environment = environment
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = Pipe()
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertTrue(output.contains("LOADED_CORE=Prescott"), "child output: \(output.suffix(400))")
    }
}
