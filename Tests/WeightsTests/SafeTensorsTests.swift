import Foundation
import Tensor
@testable import Weights
import XCTest

final class SafeTensorsTests: XCTestCase {
    func testBasicFileHeaderAndMetadata() throws {
        let f = try SafeTensorsFile(path: Fixtures.path("basic.safetensors"))
        XCTAssertEqual(f.metadata, ["format": "pt", "note": "é \"quoted\""])
        XCTAssertEqual(f.shape(of: "conv.weight"), [4, 3, 3, 3])
        XCTAssertEqual(f.shape(of: "scalar"), [])
        XCTAssertEqual(f.shape(of: "empty"), [0, 4])
        XCTAssertEqual(f.dtype(of: "half.weight"), .f16)
        XCTAssertEqual(f.dtype(of: "bf16.weight"), .bf16)
        XCTAssertNil(f.shape(of: "missing"))
        XCTAssertEqual(f.names, f.names.sorted())
    }

    /// F16/BF16/F64 -> F32 must equal torch's `.float()` exactly, including subnormals, inf and NaN payloads.
    func testConversionsMatchTorchBitForBit() throws {
        let f = try SafeTensorsFile(path: Fixtures.path("basic.safetensors"))
        let ref = try SafeTensorsFile(path: Fixtures.path("basic_f32.safetensors"))
        XCTAssertEqual(Set(ref.names), Set(f.names).subtracting(["ids"]))
        for name in ref.names {
            assertBitIdentical(try f.tensor(name), try ref.tensor(name), name)
        }
    }

    func testIntegerTensorsAreRefusedNotGuessed() throws {
        let path = Fixtures.path("basic.safetensors")
        let f = try SafeTensorsFile(path: path)
        assertWeightsError("unsupportedDType", path: path) { _ = try f.tensor("ids") }
        assertWeightsError("tensorNotFound", path: path) { _ = try f.tensor("nope") }
    }

    func testAlignedF32IsZeroCopyAndKeepsTheMappingAlive() throws {
        var t: Tensor
        do {
            let f = try SafeTensorsFile(path: Fixtures.path("basic.safetensors"))
            t = try f.tensor("conv.weight")
            XCTAssertNotNil(t.storage.owner, "aligned F32 should borrow the mapping")
            XCTAssertFalse(t.storage.isWritable)
        }
        // The file value is gone; the tensor's storage still holds the mapping.
        let ref = try SafeTensorsFile(path: Fixtures.path("basic_f32.safetensors"))
        assertBitIdentical(t, try ref.tensor("conv.weight"), "conv.weight")
        // Writing through the value-type API must copy, never touch the read-only mapping.
        t.withUnsafeMutableBufferPointer { $0[0] = 42 }
        XCTAssertEqual(t.scalars[0], 42)
    }

    func testUnalignedF32IsCopiedCorrectly() throws {
        let f = try SafeTensorsFile(path: Fixtures.path("unaligned.safetensors"))
        XCTAssertNotEqual(f.header.dataOffset % 4, 0, "fixture must be misaligned")
        let ref = try SafeTensorsFile(path: Fixtures.path("unaligned_expected.safetensors"))
        for name in ["a", "b"] {
            let t = try f.tensor(name)
            XCTAssertNil(t.storage.owner, "misaligned data is copied")
            assertBitIdentical(t, try ref.tensor(name), name)
        }
    }

    /// Each corrupt fixture is named after the WeightsError case it must raise.
    func testEveryCorruptFileRaisesItsError() throws {
        let files = try Fixtures.files(in: "st_corrupt", ext: "safetensors")
        XCTAssertGreaterThanOrEqual(files.count, 20)
        for url in files {
            let expected = String(url.deletingPathExtension().lastPathComponent.split(separator: "_")[0])
            assertWeightsError(expected, path: url.path) { _ = try SafeTensorsFile(path: url.path) }
        }
    }

    func testNonRegularAndMissingFilesAreErrors() {
        assertWeightsError("fileUnreadable", path: "/nonexistent/x.safetensors") {
            _ = try SafeTensorsFile(path: "/nonexistent/x.safetensors")
        }
        assertWeightsError("fileUnreadable", path: Fixtures.weights.path) {
            _ = try SafeTensorsFile(path: Fixtures.weights.path)
        }
    }

    func testPrefixedSource() throws {
        let f = try SafeTensorsFile(path: Fixtures.path("basic.safetensors"))
        let p = PrefixedSource(f, prefix: "conv.")
        XCTAssertEqual(p.names.sorted(), ["bias", "weight"])
        XCTAssertEqual(p.shape(of: "weight"), [4, 3, 3, 3])
        assertBitIdentical(try p.tensor("bias"), try f.tensor("conv.bias"), "bias")
    }
}

final class SafeTensorsWriterTests: XCTestCase {
    private func tempPath(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("weights-\(getpid())-\(name)").path
    }

    /// The F16/BF16 encoders must round exactly like torch (`.half()` / `.bfloat16()`).
    func testEncodersMatchTorchRounding() throws {
        let ref = try SafeTensorsFile(path: Fixtures.path("rounding.safetensors"))
        let x = try ref.tensor("f32")
        let path = tempPath("rounding.safetensors")
        defer { unlink(path) }
        var w = SafeTensorsWriter()
        try w.add("f16", x, as: .f16)
        try w.add("bf16", x, as: .bf16)
        try w.write(to: path)
        let out = try SafeTensorsFile(path: path)
        for name in ["f16", "bf16"] {
            XCTAssertEqual(Array(try out.rawBytes(name)), Array(try ref.rawBytes(name)), name)
        }
    }

    func testRoundTripKeepsBitsMetadataAndAlignment() throws {
        let src = try SafeTensorsFile(path: Fixtures.path("basic_f32.safetensors"))
        let path = tempPath("roundtrip.safetensors")
        defer { unlink(path) }
        var w = SafeTensorsWriter()
        w.metadata = ["format": "pt", "tab\tname": "line\nbreak \"q\" \u{1}"]
        for name in src.names { try w.add(name, try src.tensor(name)) }
        try w.write(to: path)
        let back = try SafeTensorsFile(path: path)
        XCTAssertEqual(back.metadata, w.metadata)
        XCTAssertEqual(back.header.dataOffset % 8, 0)
        XCTAssertEqual(back.names, src.names)
        for name in src.names { assertBitIdentical(try back.tensor(name), try src.tensor(name), name) }
    }

    func testWriterRejectsDuplicatesAndBadShapes() throws {
        var w = SafeTensorsWriter()
        try w.add("a", Tensor(shape: [2], values: [1, 2]))
        XCTAssertThrowsError(try w.add("a", Tensor(shape: [2], values: [1, 2])))
        XCTAssertThrowsError(try w.add("__metadata__", Tensor(shape: [1], values: [1])))
        XCTAssertThrowsError(try w.add("b", dtype: .f32, shape: [3], bytes: [0, 0, 0, 0]))
    }
}

final class HalfConversionTests: XCTestCase {
    /// All 65536 binary16 patterns (three times, so the parallel sliced path runs), read through a
    /// safetensors file, against Swift's own Float16 widening; NaNs must keep their payload, quieted.
    func testExhaustiveF16ThroughTheParallelPath() throws {
        var raw: [UInt8] = []
        for _ in 0..<3 { for h in 0...0xFFFF { raw.append(UInt8(h & 0xFF)); raw.append(UInt8(h >> 8)) } }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("f16-\(getpid()).safetensors").path
        defer { unlink(path) }
        var w = SafeTensorsWriter()
        try w.add("all", dtype: .f16, shape: [3, 65536], bytes: raw)
        try w.write(to: path)
        let t = try SafeTensorsFile(path: path).tensor("all")
        let got = bits(t)
        for i in 0..<got.count {
            let h = UInt16(i & 0xFFFF)
            let expected: UInt32
            if h & 0x7C00 == 0x7C00, h & 0x03FF != 0 {
                expected = UInt32(h & 0x8000) << 16 | 0x7FC0_0000 | UInt32(h & 0x03FF) << 13
            } else {
                #if arch(x86_64) || arch(arm64)
                expected = Float(Float16(bitPattern: h)).bitPattern
                #else
                expected = HalfConversion.float(fromHalfBits: h).bitPattern
                #endif
            }
            if got[i] != expected {
                XCTFail("half 0x\(String(h, radix: 16)) -> 0x\(String(got[i], radix: 16)), expected 0x\(String(expected, radix: 16))")
                return
            }
        }
    }

    func testBFloat16IsTheTopHalf() throws {
        for b: UInt16 in [0, 0x8000, 0x0001, 0x3F80, 0x7F80, 0xFF80, 0x7FC1] {
            XCTAssertEqual(HalfConversion.float(fromBFloat16Bits: b).bitPattern, UInt32(b) << 16)
        }
    }
}
