import Foundation
import Tensor
import Weights
import XCTest

/// `diffusionctl convert`: the written .safetensors holds exactly the source's tensors (names, shapes, values).
final class ConvertCommandTests: XCTestCase {
    static let weightsFixtures = TestPaths.packageRoot.appendingPathComponent("Tests/Fixtures/weights").path

    func ctl(_ args: [String]) throws -> (status: Int32, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try XCTUnwrap(TestPaths.executable("diffusionctl"), "run swift build first"))
        process.arguments = args
        let err = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: stderr, as: UTF8.self))
    }

    /// Same names, shapes and bit-identical f32 values (f32 -> f32 is a copy: exact equality).
    func assertSameTensors(_ a: any TensorSource, _ b: any TensorSource, file: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertEqual(Set(a.names), Set(b.names), file: file, line: line)
        for name in a.names {
            XCTAssertEqual(a.shape(of: name), b.shape(of: name), name, file: file, line: line)
            XCTAssertEqual(try a.tensor(name).scalars, try b.tensor(name).scalars, name, file: file, line: line)
        }
    }

    func testCheckpointToSafetensorsKeepsEveryTensorExactly() throws {
        let dir = try TempDir()
        let input = Self.weightsFixtures + "/state.ckpt"
        let output = dir.file("state.safetensors")
        let run = try ctl(["convert", input, output])
        XCTAssertEqual(run.status, 0, run.stderr)
        let source = try WeightsLoader.open(path: input)
        XCTAssertFalse(source.names.isEmpty)
        try assertSameTensors(source, try SafeTensorsFile(path: output))

        // An existing output is refused unless --overwrite; a non-.safetensors output is refused.
        let again = try ctl(["convert", input, output])
        XCTAssertNotEqual(again.status, 0)
        XCTAssertTrue(again.stderr.contains("--overwrite"), again.stderr)
        XCTAssertEqual(try ctl(["convert", input, output, "--overwrite"]).status, 0)
        XCTAssertNotEqual(try ctl(["convert", input, dir.file("x.bin")]).status, 0)
        // A missing or malicious input fails with a message and writes nothing.
        let bad = try ctl(["convert", Self.weightsFixtures + "/malicious_system.pth", dir.file("bad.safetensors")])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.file("bad.safetensors")))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.contains("tmp") }, [])
    }

    /// f16 output: values equal the source rounded to half precision (Float16 conversion is round-to-nearest-even).
    func testHalfPrecisionOutput() throws {
        let dir = try TempDir()
        let input = Self.weightsFixtures + "/state.safetensors"
        let output = dir.file("half.safetensors")
        XCTAssertEqual(try ctl(["convert", input, output, "--dtype", "f16"]).status, 0)
        let source = try WeightsLoader.open(path: input)
        let half = try SafeTensorsFile(path: output)
        for name in source.names {
            let expected = try source.tensor(name).scalars.map { Float(Float16($0)) }
            XCTAssertEqual(try half.tensor(name).scalars, expected, name)
        }
    }

    /// The real Real-ESRGAN ncnn model (./scripts/setup.sh installs it) under PyTorch names.
    func testNCNNModelUnderPyTorchNames() throws {
        let param = TestPaths.packageRoot.appendingPathComponent("models/realesrgan/realesr-animevideov3-x4.param").path
        guard FileManager.default.fileExists(atPath: String(param.dropLast(6)) + ".bin") else {
            throw XCTSkip("\(param) missing: run ./scripts/setup.sh")
        }
        let dir = try TempDir()
        let output = dir.file("v3.safetensors")
        let run = try ctl(["convert", param, output])
        XCTAssertEqual(run.status, 0, run.stderr)
        let named = try XCTUnwrap(try WeightsLoader.open(path: param) as? NCNNModel).pytorchNamed()
        let written = try SafeTensorsFile(path: output)
        XCTAssertTrue(written.names.contains("body.0.weight"), "\(written.names.sorted().prefix(5))")
        try assertSameTensors(named, written)
    }
}
