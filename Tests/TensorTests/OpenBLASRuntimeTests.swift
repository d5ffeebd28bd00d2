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

    /// Runs this test binary again (one named test) with extra environment, returning its stdout.
    private func runChild(test: String, environment extra: [String: String]) throws -> String {
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        guard executable.lastPathComponent.hasSuffix(".xctest") else {
            throw XCTSkip("not running inside an .xctest bundle executable (\(executable.path))")
        }
        let process = Process()
        process.executableURL = executable
        process.arguments = ["TensorTests.OpenBLASRuntimeTests/\(test)"]
        var environment = ProcessInfo.processInfo.environment
        environment["OPENBLAS_CORETYPE"] = nil
        environment[OpenBLASRuntime.reexecMarkerVariable] = nil
        environment.merge(extra) { $1 }
        process.environment = environment
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = Pipe()
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return output
    }

    /// Child side of the two tests below: optionally run ensureFastKernel, then report the core.
    func testChildReportsLoadedCore() {
        guard let mode = ProcessInfo.processInfo.environment["TENSORTESTS_CHILD"] else { return }
        if mode == "ensure" {
            OpenBLASRuntime.ensureFastKernel(arguments: CommandLine.arguments)
        }
        print("LOADED_CORE=\(OpenBLASRuntime.corename())")
    }

    /// The mechanism ensureFastKernel relies on: OPENBLAS_CORETYPE at start-up picks the kernel.
    func testCoreTypeVariableSelectsTheKernelInAChild() throws {
        if ProcessInfo.processInfo.environment["TENSORTESTS_CHILD"] != nil { return }
        let output = try runChild(test: "testChildReportsLoadedCore",
                                  environment: ["OPENBLAS_CORETYPE": "Prescott", "TENSORTESTS_CHILD": "report"])
        XCTAssertTrue(output.contains("LOADED_CORE=Prescott"), "child output: \(output.suffix(400))")
    }

    /// End to end: a process stuck with a weak kernel (Prescott, as Debian's 0.3.21 picks on some
    /// AVX-512 machines) that was not chosen by the user restarts itself with the CPU's best kernel.
    func testEnsureFastKernelReexecsAWeakKernel() throws {
        if ProcessInfo.processInfo.environment["TENSORTESTS_CHILD"] != nil { return }
        guard let expected = KernelClass.currentCPU.preferredCoreType else {
            throw XCTSkip("this CPU has no AVX2: no faster kernel to switch to")
        }
        // The marker (with a value that differs from the core) marks Prescott as diffusiond's own
        // earlier choice, so the child may override it; this is how the weak start is simulated.
        let output = try runChild(test: "testChildReportsLoadedCore", environment: [
            "OPENBLAS_CORETYPE": "Prescott", OpenBLASRuntime.reexecMarkerVariable: "simulated",
            "TENSORTESTS_CHILD": "ensure",
        ])
        XCTAssertTrue(output.contains("LOADED_CORE=\(expected)"), "child output: \(output.suffix(400))")
        // And a user's explicit choice is respected: no restart, Prescott stays.
        let respected = try runChild(test: "testChildReportsLoadedCore", environment: [
            "OPENBLAS_CORETYPE": "Prescott", "TENSORTESTS_CHILD": "ensure",
        ])
        XCTAssertTrue(respected.contains("LOADED_CORE=Prescott"), "child output: \(respected.suffix(400))")
    }
}
