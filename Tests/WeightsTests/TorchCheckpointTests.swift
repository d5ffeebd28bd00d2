import Foundation
import Tensor
@testable import Weights
import XCTest

final class TorchCheckpointTests: XCTestCase {
    /// Every tensor of a checkpoint must equal the safetensors export of the same state dict, bit for bit.
    private func assertSame(_ ckpt: String, _ reference: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let c = try TorchCheckpoint(path: Fixtures.path(ckpt))
        let s = try SafeTensorsFile(path: Fixtures.path(reference))
        XCTAssertEqual(c.names, s.names, file: file, line: line)
        for name in s.names {
            XCTAssertEqual(c.shape(of: name), s.shape(of: name), name, file: file, line: line)
            assertBitIdentical(try c.tensor(name), try s.tensor(name), "\(ckpt):\(name)", file: file, line: line)
        }
    }

    func testCkptEqualsSafetensorsBitForBit() throws {
        // Covers f32/f16/bf16/f64, transposed, sliced (storage offset), expanded (stride 0), shared
        // storages, a scalar, an empty tensor and an nn.Parameter.
        try assertSame("state.ckpt", "state.safetensors")
        let c = try TorchCheckpoint(path: Fixtures.path("state.ckpt"))
        XCTAssertEqual(c.stateDictKey, "state_dict")
        XCTAssertEqual(c.scalars["global_step"], 1234, "numpy int64 scalar decoded")
        XCTAssertEqual(c.scalars["epoch"], 7)
        XCTAssertEqual(c.dtype(of: "model.half"), .f16)
    }

    func testZip64ArchiveReadsTheSame() throws {
        try assertSame("state_zip64.ckpt", "state.safetensors")
        try assertSame("state_zip64_offsets.ckpt", "state.safetensors")
    }

    func testRealESRGANStylePrefersParamsEma() throws {
        try assertSame("realesrgan_style.pth", "params_ema.safetensors")
        XCTAssertEqual(try TorchCheckpoint(path: Fixtures.path("realesrgan_style.pth")).stateDictKey, "params_ema")
    }

    func testModuleStateDictWithMetadataAtTopLevel() throws {
        try assertSame("module.pth", "module.safetensors")
        XCTAssertNil(try TorchCheckpoint(path: Fixtures.path("module.pth")).stateDictKey)
    }

    func testContiguousAlignedF32IsZeroCopy() throws {
        let c = try TorchCheckpoint(path: Fixtures.path("state.ckpt"))
        XCTAssertNotNil(try c.tensor("model.conv.weight").storage.owner, "torch aligns storages to 64 bytes")
        XCTAssertNil(try c.tensor("model.transposed").storage.owner, "strided views are materialised")
    }

    func testPrefixedViewOverCheckpoint() throws {
        let c = try TorchCheckpoint(path: Fixtures.path("state.ckpt"))
        let p = PrefixedSource(c, prefix: "model.")
        XCTAssertTrue(p.names.contains("conv.weight"))
        assertBitIdentical(try p.tensor("conv.bias"), try c.tensor("model.conv.bias"), "conv.bias")
    }

    private static let marker = "/tmp/diffusiond_weights_fixture_pwned"

    /// Malicious pickles are refused, naming the global, and their payload never runs.
    func testMaliciousPicklesAreRefusedAndNothingRuns() throws {
        unlink(Self.marker)
        let cases: [(String, Set<String>)] = [
            ("malicious_system.pth", ["posix.system", "os.system"]),
            ("malicious_eval.pth", ["builtins.eval", "__builtin__.eval"]),  // protocol 2 maps builtins to __builtin__
            ("malicious_stack_global.pth", ["posix.system", "os.system"]),
        ]
        for (file, names) in cases {
            let path = Fixtures.path(file)
            do {
                _ = try TorchCheckpoint(path: path)
                XCTFail("\(file) loaded")
            } catch let WeightsError.forbiddenGlobal(p, _, name) {
                XCTAssertEqual(p, path)
                XCTAssertTrue(names.contains(name), "\(file): refused global named \(name)")
            }
            XCTAssertFalse(FileManager.default.fileExists(atPath: Self.marker), "\(file): payload executed")
        }
    }

    /// torch.save(..., _use_new_zipfile_serialization=False) (2022 hypernetworks): read through the same
    /// restricted unpickler; a bare pickle that is not a torch.save file is still refused with advice.
    func testLegacyFormatLoadsAndOtherPicklesAreRefused() throws {
        let path = Fixtures.path("legacy.pt")
        let legacy = try TorchCheckpoint(path: path)
        XCTAssertEqual(legacy.names, ["w"])
        XCTAssertEqual(try legacy.tensor("w").scalars, [1, 1])
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("legacy-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        // Every truncation and a few corrupted counts fail with a WeightsError, never a crash.
        for cut in stride(from: 1, to: bytes.count, by: 7) {
            let file = dir.appendingPathComponent("cut\(cut).pt")
            try bytes.prefix(cut).write(to: file)
            XCTAssertThrowsError(try TorchCheckpoint(path: file.path), "cut at \(cut)") { XCTAssertTrue($0 is WeightsError, "\($0)") }
        }
        var grown = bytes
        grown[bytes.count - 16] = 0x7F  // the int64 element count of the one storage, just before its 8 bytes
        let file = dir.appendingPathComponent("count.pt")
        try grown.write(to: file)
        XCTAssertThrowsError(try TorchCheckpoint(path: file.path)) { XCTAssertTrue("\($0)".contains("elements"), "\($0)") }
        let plain = dir.appendingPathComponent("plain.pt")
        try Data([0x80, 0x02, 0x7D, 0x71, 0x00, 0x2E]).write(to: plain)  // pickle.dumps({}, 2)
        assertWeightsError("legacyTorchFormat", path: plain.path) { _ = try TorchCheckpoint(path: plain.path) }
        XCTAssertTrue(WeightsError.legacyTorchFormat(path: path).description.contains("re-save"))
    }

    /// Each corrupt fixture is named after the WeightsError case it must raise.
    func testEveryCorruptCheckpointRaisesItsError() throws {
        let files = try Fixtures.files(in: "ckpt_corrupt", ext: "ckpt")
        XCTAssertGreaterThanOrEqual(files.count, 10)
        for url in files {
            let expected = String(url.deletingPathExtension().lastPathComponent.split(separator: "_")[0])
            assertWeightsError(expected, path: url.path) { _ = try TorchCheckpoint(path: url.path) }
        }
    }

    func testSafetensorsFileIsNotACheckpoint() {
        let path = Fixtures.path("basic.safetensors")
        assertWeightsError("invalidZip", path: path) { _ = try TorchCheckpoint(path: path) }
    }
}
