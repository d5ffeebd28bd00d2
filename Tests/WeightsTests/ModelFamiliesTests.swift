import Foundation
import Tensor
import Weights
import XCTest

/// The family registry: detection order, recognition of every fixture layout, and each family's conventions.
final class ModelFamiliesTests: XCTestCase {
    func testRegistryListsSD2BeforeSD1() {
        XCTAssertEqual(ModelFamilies.all.map(\.id), [.sdxlRefiner, .sdxl, .sd2, .sd1])
        XCTAssertEqual(ModelFamilies.family(.sd1)?.id, .sd1)
        XCTAssertEqual(ModelFamilies.family(ModelFamilyID(rawValue: "sdxl"))?.id, .sdxl)
        XCTAssertNil(ModelFamilies.family(ModelFamilyID(rawValue: "sd3")))
    }

    func testSingleFilesAreRecognisedByTheirTextTower() throws {
        for family in NameMappingTests.families {
            for (layout, single) in try NameMappingTests.singleFiles(family) {
                XCTAssertEqual(try ModelFamilies.recognise(singleFile: single).id, family == "sd2v" ? .sd2 : .sd1,
                               "\(family)/\(layout)")
            }
        }
    }

    func testWithoutATextEncoderTheContextWidthDecides() throws {
        let sd2 = try SafeTensorsFile(path: NameMappingTests.familyFolder("sd2v").appendingPathComponent("single.safetensors").path)
        var shapes: [String: [Int]] = [:]
        for name in sd2.names where name.hasPrefix("model.diffusion_model.") { shapes[name] = sd2.shape(of: name) }
        // The tiny fixture's context is 32 wide: an SD1-like UNet-only file.
        XCTAssertEqual(try ModelFamilies.recognise(singleFile: ShapeOnlySource(shapes)).id, .sd1)
        for (name, shape) in shapes where name.hasSuffix("attn2.to_k.weight") || name.hasSuffix("attn2.to_v.weight") {
            shapes[name] = [shape[0], SD2Family.contextWidth]
        }
        XCTAssertEqual(try ModelFamilies.recognise(singleFile: ShapeOnlySource(shapes)).id, .sd2)
    }

    func testFoldersAreRecognisedByTheirConfigs() throws {
        XCTAssertEqual(try ModelFamilies.recognise(folder: DiffusersFolderSummary(textEncoderHiddenAct: "gelu", unetCrossAttentionDim: 32)).id, .sd2)
        XCTAssertEqual(try ModelFamilies.recognise(folder: DiffusersFolderSummary(textEncoderHiddenAct: "quick_gelu", unetCrossAttentionDim: 1024)).id, .sd1)
        XCTAssertEqual(try ModelFamilies.recognise(folder: DiffusersFolderSummary(textEncoderHiddenAct: nil, unetCrossAttentionDim: 1024)).id, .sd2)
        XCTAssertEqual(try ModelFamilies.recognise(folder: DiffusersFolderSummary(textEncoderHiddenAct: nil, unetCrossAttentionDim: 768)).id, .sd1)
    }

    func testConventions() {
        XCTAssertEqual(SD1Family().tokenizer, .openAICLIP)
        XCTAssertEqual(SD2Family().tokenizer, .openCLIP)
        XCTAssertEqual(SD1Family().defaultParameterisation(globalStep: nil, unetInChannels: 4), .epsilon)
        XCTAssertEqual(SD2Family().defaultParameterisation(globalStep: nil, unetInChannels: 4), .v)
        XCTAssertEqual(SD2Family().defaultParameterisation(globalStep: 875_000, unetInChannels: 4), .epsilon)
        XCTAssertEqual(SD2Family().defaultParameterisation(globalStep: 110_000, unetInChannels: 4), .v)
        // SD 2 depth (5 channels) and inpainting (9) are epsilon models whatever the step count.
        XCTAssertEqual(SD2Family().defaultParameterisation(globalStep: 110_000, unetInChannels: 5), .epsilon)
        XCTAssertEqual(SD2Family().defaultParameterisation(globalStep: nil, unetInChannels: 9), .epsilon)
        XCTAssertEqual(SD1Family().conventions, .stableDiffusion)
        XCTAssertEqual(SingleFileConventions.stableDiffusion.sd1AttentionHeads, 8)
        XCTAssertEqual(SingleFileConventions.stableDiffusion.sd2AttentionHeadDim, 64)
    }

    func testFamilyViewsEqualTheSharedMapping() throws {
        let sd2 = try SafeTensorsFile(path: NameMappingTests.familyFolder("sd2v").appendingPathComponent("single.safetensors").path)
        // SD2 exposes the penultimate-depth text encoder, as LDMToDiffusers' default does.
        XCTAssertEqual(try SD2Family().diffusersView(of: .textEncoder, in: sd2).table,
                       try LDMToDiffusers.textEncoder(sd2, openCLIPDepth: .penultimate).table)
        XCTAssertEqual(try SD2Family().diffusersView(of: .unet, in: sd2).table, try LDMToDiffusers.unet(sd2).table)
        XCTAssertEqual(try SD2Family().diffusersView(of: .vae, in: sd2).table, try LDMToDiffusers.vae(sd2).table)
    }

    func testUnrecognisedUNetKeepsItsError() throws {
        let empty = ShapeOnlySource([:])
        XCTAssertThrowsError(try SingleFileArchitecture.detect(empty)) { error in
            XCTAssertEqual(error as? NameMappingError, .componentNotFound(component: "unet", prefix: "model.diffusion_model."))
        }
    }
}
