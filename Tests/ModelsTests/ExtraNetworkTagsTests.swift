import Models
import XCTest

final class ExtraNetworkTagsTests: XCTestCase {
    func testLoRATagsAreRemovedAndParsed() {
        let tags = ExtraNetworkTags("a fox <lora:styles/ink:0.6>, snow <lora:detail:te=0.5:unet=1.25> (red:1.2)<LyCO:x>")
        XCTAssertEqual(tags.text, "a fox , snow  (red:1.2)")
        XCTAssertEqual(tags.loras.map(\.name), ["styles/ink", "detail", "x"])
        XCTAssertEqual(tags.loras[0].weight, 0.6)
        XCTAssertNil(tags.loras[0].textEncoderWeight)
        XCTAssertEqual(tags.loras[1].textEncoderWeight, 0.5)
        XCTAssertEqual(tags.loras[1].unetWeight, 1.25)
        XCTAssertEqual(tags.loras[2].weight, 1)
        XCTAssertTrue(tags.loras.allSatisfy { $0.problem == nil })
    }

    func testPositionalWeightsAreTextEncoderThenUNet() {
        let tag = ExtraNetworkTags("<lora:a:0.3:0.9>").loras[0]
        XCTAssertEqual(tag.weight, 0.3)
        XCTAssertEqual(tag.unetWeight, 0.9)
        XCTAssertNil(tag.textEncoderWeight)
    }

    func testHypernetworkTagsAreCarriedNotApplied() {
        let tags = ExtraNetworkTags("<hypernet:anime:0.7>portrait")
        XCTAssertEqual(tags.text, "portrait")
        XCTAssertEqual(tags.hypernetworks.map(\.name), ["anime"])
        XCTAssertEqual(tags.hypernetworks.map(\.weight), [0.7])
        XCTAssertEqual(tags.hypernetworks.map(\.source), ["<hypernet:anime:0.7>"])
        XCTAssertNil(tags.hypernetworks.first?.problem)
        XCTAssertTrue(tags.loras.isEmpty)
    }

    func testOtherAngleBracketTextStays() {
        for text in ["a <b> c", "x < y > z", "<embedding:1>", "<lora>", "trailing <lora:x", "<:a>"] {
            let tags = ExtraNetworkTags(text)
            XCTAssertEqual(tags.text, text, text)
            XCTAssertTrue(tags.loras.isEmpty, text)
        }
    }

    func testBadWeightsAreKeptWithTheProblem() {
        for (text, problem) in [("<lora:a:abc>", "weight \"abc\" is not a number"), ("<lora:a:te=x>", "te=x is not a number"),
                                ("<lora::1>", "the tag names no LoRA"), ("<lora:a:1:2:3>", "more than two weights"),
                                ("<lora:a:nan>", "weight \"nan\" is not a number"), ("<lora:a:foo=1>", "unknown argument foo=")] {
            let tags = ExtraNetworkTags(text)
            XCTAssertEqual(tags.text, "", text)
            XCTAssertEqual(tags.loras.first?.problem, problem, text)
        }
    }
}
