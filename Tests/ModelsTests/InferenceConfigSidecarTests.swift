import Foundation
import Models
import Weights
import XCTest

/// A `<name>.yaml` beside a single file decides what its tensors cannot: with the tiny models' own configs
/// (`scripts/fixtures/make_sidecar_fixtures.py`) a file loads, without any option, to exactly the configs of
/// its diffusers folder; without the sidecar the family's standard values do not fit the tiny tensors.
final class InferenceConfigSidecarTests: XCTestCase {
    static var fixtures: String { SDFixtures.root + "/.." }

    /// (sidecar, single file, diffusers folder) for every tiny family.
    static let cases: [(sidecar: String, file: String, folder: String)] = [
        ("sd1", "sd/sd1/single.safetensors", "sd/sd1/diffusers"),
        ("sd1", "sd/sd1/single.ckpt", "sd/sd1/diffusers"),
        ("sd2v", "sd/sd2v/single.safetensors", "sd/sd2v/diffusers"),
        ("sdxl-base", "sdxl/base/single.fp16.safetensors", "sdxl/base/diffusers"),
        ("sdxl-base", "sdxl/base/single-hfclipg.safetensors", "sdxl/base/diffusers"),
        ("sdxl-base", "sdxl/base/single.ckpt", "sdxl/base/diffusers"),
        ("sdxl-refiner", "sdxl/refiner/single.fp16.safetensors", "sdxl/refiner/diffusers"),
        ("sdxl-refiner", "sdxl/refiner/single.bf16.safetensors", "sdxl/refiner/diffusers"),
        ("sdxl-inpaint", "sdxl/inpaint/single.fp16.safetensors", "sdxl/inpaint/diffusers"),
    ]

    private var scratch: URL!

    override func setUpWithError() throws {
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("sidecar-\(getpid())-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: scratch)
    }

    /// `file` linked into the scratch folder as `model.<ext>`, with `yaml` (when given) as `model.yaml`.
    private func place(_ file: String, yaml: String?) throws -> String {
        let ext = (file as NSString).pathExtension
        let dir = scratch.appendingPathComponent(UUID().uuidString)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let path = dir.appendingPathComponent("model.\(ext)").path
        try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: Self.fixtures + "/" + file)
        if let yaml { try yaml.write(toFile: dir.appendingPathComponent("model.yaml").path, atomically: true, encoding: .utf8) }
        return path
    }

    private func sidecar(_ name: String) throws -> String {
        try String(contentsOfFile: Self.fixtures + "/sidecars/\(name).yaml", encoding: .utf8)
    }

    func testSingleFilesWithTheirConfigLoadToTheFolderConfigs() throws {
        for (name, file, folder) in Self.cases {
            let single = try ModelFiles.load(path: try place(file, yaml: try sidecar(name)))
            let reference = try ModelFiles.load(path: Self.fixtures + "/" + folder)
            XCTAssertEqual(try Self.attentionHeads(single.unet.config), try Self.attentionHeads(reference.unet.config), file)
            XCTAssertEqual(single.unet.config.normNumGroups, reference.unet.config.normNumGroups, file)
            XCTAssertEqual(single.vae.config.normNumGroups, reference.vae.config.normNumGroups, file)
            XCTAssertEqual(single.vae.config.scalingFactor, reference.vae.config.scalingFactor, file)
            XCTAssertEqual(single.textEncoders.map(\.slot), reference.textEncoders.map(\.slot), file)
            for (a, b) in zip(single.textEncoders, reference.textEncoders) {
                XCTAssertEqual(a.encoder.config.numAttentionHeads, b.encoder.config.numAttentionHeads, "\(file) \(a.slot)")
                XCTAssertEqual(a.encoder.config.hiddenSize, b.encoder.config.hiddenSize, "\(file) \(a.slot)")
            }
            XCTAssertEqual(single.predictionType, reference.predictionType, file)
        }
    }

    /// Heads of the levels that have attention (diffusers configs carry a number for the others too).
    static func attentionHeads(_ config: UNetConfig) throws -> [Int] {
        let heads = try config.attentionHeadDim.expanded(to: config.blockOutChannels.count, field: "attention_head_dim")
        return zip(heads, config.downBlockTypes).filter { $0.1.hasPrefix("CrossAttn") }.map(\.0)
    }

    func testWithoutTheConfigTheStandardValuesDoNotFitTheTinyTensors() throws {
        for (_, file, _) in Self.cases {
            // SD's 32 norm groups cannot divide 8–24 channels: the strict loader refuses rather than guess.
            XCTAssertThrowsError(try ModelFiles.load(path: try place(file, yaml: nil)), file)
        }
    }

    func testTheSidecarOverridesOnlyWhatItSays() throws {
        let config = try InferenceConfigSidecar(yaml: try YAMLNode.parse(try sidecar("sdxl-refiner")), path: "r.yaml")
        XCTAssertEqual(config.predictionType, .epsilon)
        XCTAssertEqual(config.unetHeads, .channelsPerHead(4))
        XCTAssertEqual(config.secondTextHeads, 3)
        XCTAssertNil(config.textHeads, "the refiner has no CLIP-L")
        let over = config.conventions(over: .stableDiffusionXL)
        XCTAssertEqual(over.unetNormGroups, 4)
        XCTAssertEqual(over.vaeNormGroups, 4)
        XCTAssertEqual(over.vaeScalingFactor, 0.13025)
        XCTAssertEqual(over.textAttentionHeadDim, SingleFileConventions.stableDiffusionXL.textAttentionHeadDim)

        let sd1 = try InferenceConfigSidecar(yaml: try YAMLNode.parse(try sidecar("sd1")), path: "sd1.yaml")
        XCTAssertEqual(sd1.unetHeads, .count(8))
        XCTAssertEqual(sd1.textHeads, 4)
        XCTAssertEqual(sd1.scaleFactor, 0.18215)
        let v = try InferenceConfigSidecar(yaml: try YAMLNode.parse(try sidecar("sd2v")), path: "v.yaml")
        XCTAssertEqual(v.predictionType, .vPrediction)
        XCTAssertEqual(v.unetHeads, .channelsPerHead(8))
    }

    func testSGMDenoiserScalingSaysVPrediction() throws {
        let text = try sidecar("sdxl-base").replacingOccurrences(of: "denoiser_scaling.EpsScaling",
                                                                 with: "denoiser_scaling.VScaling")
        XCTAssertEqual(try InferenceConfigSidecar(yaml: try YAMLNode.parse(text), path: "x.yaml").predictionType, .vPrediction)
        let loaded = try ModelFiles.load(path: try place("sdxl/base/single.fp16.safetensors", yaml: text))
        XCTAssertEqual(loaded.predictionType, .vPrediction)
        // num_heads: -1 means "use num_head_channels", as LDM's UNet reads it.
        let minusOne = try YAMLNode.parse("model:\n  params:\n    unet_config:\n      params:\n        num_heads: -1\n        num_head_channels: 16\n")
        XCTAssertEqual(try InferenceConfigSidecar(yaml: minusOne, path: "m.yaml").unetHeads, .channelsPerHead(16))
    }

    func testBadSidecarsAreRefusedNamingTheFileAndLine() throws {
        let broken = "model:\n  params:\n    scale_factor: [1, 2\n"
        let path = try place("sdxl/base/single.fp16.safetensors", yaml: broken)
        XCTAssertThrowsError(try ModelFiles.load(path: path)) { error in
            let text = String(describing: error)
            XCTAssertTrue(text.contains("model.yaml") && text.contains("line 3"), text)
        }
        let zeroHeads = "model:\n  params:\n    network_config:\n      params:\n        num_head_channels: 0\n"
        XCTAssertThrowsError(try ModelFiles.load(path: try place("sdxl/base/single.fp16.safetensors", yaml: zeroHeads))) { error in
            XCTAssertTrue(String(describing: error).contains("num_head_channels"), "\(error)")
        }
        let word = "model:\n  params:\n    scale_factor: big\n"
        XCTAssertThrowsError(try ModelProbe.describe(path: try place("sdxl/base/single.fp16.safetensors", yaml: word))) { error in
            XCTAssertTrue(String(describing: error).contains("scale_factor"), "\(error)")
        }
    }

    func testTheProbeReadsTheSidecarToo() throws {
        let described = try ModelProbe.describe(path: try place("sd/sd2v/single.safetensors", yaml: try sidecar("sd2v")))
        XCTAssertEqual(described.stableDiffusion?.predictionType, .vPrediction)
    }
}

/// The YAML subset the sidecars are read with.
final class YAMLSubsetTests: XCTestCase {
    func testNestedBlocksFlowCollectionsAndComments() throws {
        let text = """
        # leading comment
        model:
          target: a.b.C   # trailing comment
          params:
            list: [1, 2, 4]
            map: {x: 1, y: "two, three"}
            quoted: 'it''s'
            hash: "a # b"
            items:
              - name: first
                value: 1
              - second
              -
                name: third
            same_indent:
            - a
            - b
            empty:
        other: 3
        """
        let node = try YAMLNode.parse(text)
        XCTAssertEqual(node.at("model", "target")?.string, "a.b.C")
        XCTAssertEqual(node.at("model", "params", "list")?.items?.compactMap(\.int), [1, 2, 4])
        XCTAssertEqual(node.at("model", "params", "map", "y")?.string, "two, three")
        XCTAssertEqual(node.at("model", "params", "quoted")?.string, "it's")
        XCTAssertEqual(node.at("model", "params", "hash")?.string, "a # b")
        let items = try XCTUnwrap(node.at("model", "params", "items")?.items)
        XCTAssertEqual(items.count, 3)
        XCTAssertEqual(items[0]["name"]?.string, "first")
        XCTAssertEqual(items[0]["value"]?.int, 1)
        XCTAssertEqual(items[1].string, "second")
        XCTAssertEqual(items[2]["name"]?.string, "third")
        XCTAssertEqual(node.at("model", "params", "same_indent")?.items?.compactMap(\.string), ["a", "b"])
        XCTAssertEqual(node.at("model", "params", "empty")?.string, "")
        XCTAssertEqual(node["other"]?.double, 3)
    }

    func testUnsupportedOrMalformedInputIsRefusedWithItsLine() {
        let cases: [(String, Int)] = [
            ("a: 1\n  b: 2\n", 2),          // indented under a scalar
            ("a:\n\tb: 1\n", 2),            // tab indentation
            ("a: &anchor 1\n", 1),          // anchors
            ("a: [1, 2\n", 1),              // unclosed flow sequence
            ("a: 1\njust words\n", 2),      // not a key
            ("a: \"open\n", 1),             // unclosed quote
        ]
        for (text, line) in cases {
            XCTAssertThrowsError(try YAMLNode.parse(text), text) { error in
                XCTAssertEqual((error as? YAMLSubsetError)?.line, line, "\(text): \(error)")
            }
        }
    }
}
