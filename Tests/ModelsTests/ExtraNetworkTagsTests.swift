import Models
import XCTest

final class ExtraNetworkTagsTests: XCTestCase {
    func testLoRATagsAreRemovedAndParsed() {
        let tags = ExtraNetworkTags("a fox <lora:styles/ink:0.6>, snow <lora:detail:te=0.5:unet=1.25> (red:1.2)<LyCO:x>")
        XCTAssertEqual(tags.text, "a fox , snow  (red:1.2)")
        XCTAssertEqual(tags.loras.map(\.name), ["styles/ink", "detail", "x"])
        XCTAssertEqual(tags.loras[0].weight, 0.6)
        XCTAssertNil(tags.loras[0].unetWeight)
        XCTAssertEqual(tags.loras[1].weight, 0.5)
        XCTAssertEqual(tags.loras[1].unetWeight, 1.25)
        XCTAssertEqual(tags.loras[2].weight, 1)
        XCTAssertTrue(tags.loras.allSatisfy { $0.problem == nil })
    }

    /// A1111: the UNet's multiplier defaults to the text encoders', including one given as te=.
    func testUNetWeightDefaultsToTheTextEncoderWeight() {
        let named = ExtraNetworkTags("<lora:a:te=0.4>").loras[0]
        XCTAssertEqual(named.weight, 0.4)
        XCTAssertEqual(named.unetWeight ?? named.weight, 0.4)
        XCTAssertEqual(named.weight, 0.4)
        let override = ExtraNetworkTags("<lora:a:0.7:te=0.5>").loras[0]
        XCTAssertEqual(override.weight, 0.5)
        XCTAssertEqual(override.unetWeight ?? override.weight, 0.5)
        let unetOnly = ExtraNetworkTags("<lora:a:unet=0>").loras[0]
        XCTAssertEqual(unetOnly.weight, 1)
        XCTAssertEqual(unetOnly.unetWeight, 0)
    }

    func testPositionalWeightsAreTextEncoderThenUNet() {
        let tag = ExtraNetworkTags("<lora:a:0.3:0.9>").loras[0]
        XCTAssertEqual(tag.weight, 0.3)
        XCTAssertEqual(tag.unetWeight, 0.9)
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
                                ("<lora::1>", "the tag names no LoRA"),
                                ("<lora:a:1:2:3:4>", "LoRA \"a\" has 4 positional arguments after its name; at most 3 (te, unet, dyn)"),
                                ("<lora:a:nan>", "weight \"nan\" is not a number"), ("<lora:a:foo=1>", "unknown argument foo=")] {
            let tags = ExtraNetworkTags(text)
            XCTAssertEqual(tags.text, "", text)
            XCTAssertEqual(tags.loras.first?.problem, problem, text)
        }
    }

    /// A1111's DyLoRA rank limit, alone or with te=/unet= and positional weights.
    func testDynIsParsedWithTheWeights() {
        let tags = ExtraNetworkTags("<lora:a:0.6:dyn=8> <lora:b:te=0.3:unet=0.7:dyn=2> <lora:c:dyn=1> <lora:d:0.5:0.9:DYN=16>")
        XCTAssertEqual(tags.loras.map(\.dyn), [8, 2, 1, 16])
        XCTAssertEqual(tags.loras.map(\.weight), [0.6, 0.3, 1, 0.5])
        XCTAssertEqual(tags.loras.map(\.unetWeight), [nil, 0.7, nil, 0.9])
        XCTAssertTrue(tags.loras.allSatisfy { $0.problem == nil })
        XCTAssertNil(ExtraNetworkTags("<lora:a:0.6>").loras[0].dyn)
    }

    func testDynThatIsNoRankIsKeptWithTheProblemNamingTheLoRA() {
        for value in ["0", "-1", "1.5", "x", ""] {
            let tag = ExtraNetworkTags("<lora:styles/ink:0.8:dyn=\(value)>").loras[0]
            XCTAssertEqual(tag.problem, "dyn=\(value) of LoRA \"styles/ink\" is not a rank (a whole number of at least 1)", value)
        }
    }

    /// A1111's positional forms: `NAME:TE`, `NAME:TE:UNET`, `NAME:TE:UNET:DYN`; named te=/unet=/dyn= override the
    /// positional ones wherever they stand.
    func testPositionalDynIsTheFourthArgument() {
        let tags = ExtraNetworkTags("<lora:a:0.6:0.9:8> <lora:b:1:1:2> <lora:c:0.5:0.5:16:dyn=4> <lora:d:te=0.2:0.7:0.3:3> <lora:e: 0.4 : 0.8 : 12 >")
        XCTAssertTrue(tags.loras.allSatisfy { $0.problem == nil }, "\(tags.loras.map(\.problem))")
        XCTAssertEqual(tags.loras.map(\.name), ["a", "b", "c", "d", "e"])
        XCTAssertEqual(tags.loras.map(\.dyn), [8, 2, 4, 3, 12])
        XCTAssertEqual(tags.loras.map(\.weight), [0.6, 1, 0.5, 0.2, 0.4])
        XCTAssertEqual(tags.loras.map(\.unetWeight), [0.9, nil, nil, 0.3, 0.8])
        let overridden = ExtraNetworkTags("<lora:f:0.6:0.9:8:unet=0.1:te=0.3>").loras[0]
        XCTAssertEqual([overridden.weight, overridden.unetWeight], [0.3, 0.1])
        XCTAssertEqual(overridden.dyn, 8)
        XCTAssertNil(ExtraNetworkTags("<lora:g:0.6:0.9>").loras[0].dyn)
    }

    /// A positional dyn is read as A1111's int(): a whole number ≥ 1, refused naming the LoRA, also when a named
    /// dyn= would override it (A1111 converts the positional one first).
    func testPositionalDynThatIsNoRankIsKeptWithTheProblemNamingTheLoRA() {
        for value in ["0", "-1", "1.5", "8.0", "x", "", "inf"] {
            for text in ["<lora:styles/ink:0.8:0.8:\(value)>", "<lora:styles/ink:0.8:0.8:\(value):dyn=4>"] {
                let tag = ExtraNetworkTags(text).loras[0]
                XCTAssertEqual(tag.problem, "dyn \"\(value)\" (the fourth argument) of LoRA \"styles/ink\" is not a rank (a whole number of at least 1)", text)
            }
        }
        XCTAssertEqual(ExtraNetworkTags("<lora:a:0.8:x:4>").loras[0].problem, "weight \"x\" is not a number")
    }
}
