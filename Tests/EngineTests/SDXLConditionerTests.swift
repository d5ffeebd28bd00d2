import Engine
import Foundation
import Imaging
import Models
import Tensor
import XCTest

/// `SDXLConditioner` against diffusers/transformers (Tests/Fixtures/sdxl): both encoders' penultimate raw
/// states side by side, bigG's projected pooled output, the CFG layout, the zero negative, A1111 chunking of a
/// long prompt, and the `add_time_ids` of every pipeline case, exactly.
final class SDXLConditionerTests: XCTestCase {
    /// float32 vs PyTorch float32 in different summation orders (the ModelsTests measure).
    let tolerance: Float = 1e-4
    /// The first encoder's width (CLIP-L-like, 32) and the second's (bigG-like, 48).
    let width1 = 32, width2 = 48

    private func prompts() throws -> [String] {
        let text = try XCTUnwrap(try SDXLConditioningFixtures.reference().metadata["te.prompts"])
        return try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String])
    }

    private func row(_ x: Tensor, _ i: Int) -> Tensor { split(x, axis: 0, sizes: Array(repeating: 1, count: x.shape[0]))[i] }

    private func encoderHalves(_ context: Tensor) -> (first: Tensor, second: Tensor) {
        let parts = split(context, axis: 2, sizes: [width1, width2])
        return (parts[0], parts[1])
    }

    private func request(_ prompt: String, negative: String = "", cfg: Bool = false, batch: Int = 1,
                         clipSkip: Int = 1) -> ConditioningRequest {
        ConditioningRequest(prompt: prompt, negativePrompt: negative, clipSkip: clipSkip, batch: batch,
                            withUnconditional: cfg, outputSize: ImageSize(width: 32, height: 32))
    }

    func testEveryReferencePromptMatchesBothEncodersAndThePooledOutput() throws {
        let conditioner = try SDXLConditioningFixtures.conditioner()
        let reference = try SDXLConditioningFixtures.reference()
        for (i, prompt) in try prompts().enumerated() {
            let got = try conditioner.conditioning(for: request(prompt))
            XCTAssertEqual(got.context.shape, [1, 77, width1 + width2], prompt)
            let halves = encoderHalves(got.context)
            assertMatches(halves.first, row(try reference.tensor("te1.hidden_m2"), i), "te1 hidden_m2 of \(prompt.debugDescription)")
            assertMatches(halves.second, row(try reference.tensor("te2.hidden_m2"), i), "te2 hidden_m2 of \(prompt.debugDescription)")
            assertMatches(try XCTUnwrap(got.pooled), row(try reference.tensor("te2.text_embeds"), i), "pooled of \(prompt.debugDescription)")
            XCTAssertEqual(try XCTUnwrap(got.timeIDs).scalars, [32, 32, 0, 0, 32, 32])
            // Each encoder chunks with its own tokenizer (pads: EOS, "!").
            XCTAssertEqual(conditioner.first?.chunker.chunks(prompt).first?.ids.map(Float.init),
                           row(try reference.tensor("te1.input_ids"), i).scalars)
            XCTAssertEqual(conditioner.second.chunker.chunks(prompt).first?.ids.map(Float.init),
                           row(try reference.tensor("te2.input_ids"), i).scalars)
        }
    }

    /// Our clip skip 2 = diffusers' `clip_skip=1` = `hidden_states[-3]`, no final norm; pooled unchanged.
    func testClipSkipCountsFromThePenultimateLayer() throws {
        let conditioner = try SDXLConditioningFixtures.conditioner()
        XCTAssertEqual(conditioner.clipSkipRange, 1...3)
        let reference = try SDXLConditioningFixtures.reference()
        let prompt = try prompts()[1]
        let got = try conditioner.conditioning(for: request(prompt, clipSkip: 2))
        let halves = encoderHalves(got.context)
        assertMatches(halves.first, row(try reference.tensor("te1.hidden_m3"), 1), "te1 hidden_m3")
        assertMatches(halves.second, row(try reference.tensor("te2.hidden_m3"), 1), "te2 hidden_m3")
        assertMatches(try XCTUnwrap(got.pooled), row(try reference.tensor("te2.text_embeds"), 1), "pooled")
    }

    /// [uncond × n, cond × n] for context, pooled and time ids alike.
    func testGuidanceLayoutLeadsWithTheNegative() throws {
        let conditioner = try SDXLConditioningFixtures.conditioner()
        let reference = try SDXLConditioningFixtures.reference()
        let prompts = try prompts()
        let got = try conditioner.conditioning(for: request(prompts[2], negative: prompts[1], cfg: true, batch: 2))
        XCTAssertEqual(got.context.shape, [4, 77, 80])
        XCTAssertEqual(got.pooled?.shape, [4, 40])
        XCTAssertEqual(got.timeIDs?.shape, [4, 6])
        for (r, prompt) in [(0, 1), (1, 1), (2, 2), (3, 2)] {
            let halves = encoderHalves(row(got.context, r))
            assertMatches(halves.first, row(try reference.tensor("te1.hidden_m2"), prompt), "row \(r) te1")
            assertMatches(halves.second, row(try reference.tensor("te2.hidden_m2"), prompt), "row \(r) te2")
            assertMatches(row(try XCTUnwrap(got.pooled), r), row(try reference.tensor("te2.text_embeds"), prompt), "row \(r) pooled")
        }
    }

    /// force_zeros_for_empty_prompt: "" (= left out) gives zeros; without the flag "" is encoded
    /// (diffusers' explicit `negative_prompt=""`).
    func testEmptyNegativeIsZerosOnlyWhenTheModelSaysSo() throws {
        let reference = try SDXLConditioningFixtures.reference()
        let prompt = try prompts()[1]
        let zeroed = try SDXLConditioningFixtures.conditioner().conditioning(for: request(prompt, cfg: true))
        XCTAssertTrue(row(zeroed.context, 0).scalars.allSatisfy { $0 == 0 })
        XCTAssertTrue(row(try XCTUnwrap(zeroed.pooled), 0).scalars.allSatisfy { $0 == 0 })
        XCTAssertEqual(try XCTUnwrap(zeroed.timeIDs).scalars, [32, 32, 0, 0, 32, 32, 32, 32, 0, 0, 32, 32])
        assertMatches(row(try XCTUnwrap(zeroed.pooled), 1), row(try reference.tensor("te2.text_embeds"), 1), "cond pooled")

        let encoded = try SDXLConditioningFixtures.conditioner(forceZeros: false).conditioning(for: request(prompt, cfg: true))
        let halves = encoderHalves(row(encoded.context, 0))
        assertMatches(halves.first, row(try reference.tensor("te1.hidden_m2"), 0), "\"\" te1")
        assertMatches(halves.second, row(try reference.tensor("te2.hidden_m2"), 0), "\"\" te2")
        assertMatches(row(try XCTUnwrap(encoded.pooled), 0), row(try reference.tensor("te2.text_embeds"), 0), "\"\" pooled")

        // A second negative prompt of its own is encoded even when the first is empty.
        var withSecond = request(prompt, cfg: true)
        withSecond.negativePrompt2 = "blurry"
        let second = try SDXLConditioningFixtures.conditioner().conditioning(for: withSecond)
        XCTAssertFalse(row(try XCTUnwrap(second.pooled), 0).scalars.allSatisfy { $0 == 0 })
    }

    /// prompt_2 reaches the second encoder only, and pooled follows it.
    func testSecondPromptGoesToTheSecondEncoder() throws {
        let reference = try SDXLConditioningFixtures.reference()
        let prompts = try prompts()
        var r = request(prompts[1])
        r.prompt2 = prompts[2]
        let got = try SDXLConditioningFixtures.conditioner().conditioning(for: r)
        let halves = encoderHalves(got.context)
        assertMatches(halves.first, row(try reference.tensor("te1.hidden_m2"), 1), "te1 gets prompt")
        assertMatches(halves.second, row(try reference.tensor("te2.hidden_m2"), 2), "te2 gets prompt_2")
        assertMatches(try XCTUnwrap(got.pooled), row(try reference.tensor("te2.text_embeds"), 2), "pooled of prompt_2")
    }

    /// The long prompt in plain 75-token windows (the fixture's rule: no comma back-off), per chunk, the
    /// pooled output of chunk 0; the negative is padded to the same chunk count with empty chunks.
    func testLongPromptChunksPerEncoder() throws {
        let reference = try SDXLConditioningFixtures.reference()
        let prompt = try XCTUnwrap(reference.metadata["long.prompt"])
        let conditioner = try SDXLConditioningFixtures.conditioner(commaBacktrack: 0)
        let got = try conditioner.conditioning(for: request(prompt, negative: "blurry", cfg: true))
        XCTAssertEqual(got.context.shape, [2, 154, 80])
        let chunks = split(row(got.context, 1), axis: 1, sizes: [77, 77])
        for (i, chunk) in chunks.enumerated() {
            XCTAssertEqual(conditioner.first?.chunker.chunks(prompt)[i].ids.map(Float.init),
                           try reference.tensor("long.chunk\(i).ids1").scalars, "chunk \(i) ids1")
            XCTAssertEqual(conditioner.second.chunker.chunks(prompt)[i].ids.map(Float.init),
                           try reference.tensor("long.chunk\(i).ids2").scalars, "chunk \(i) ids2")
            let halves = encoderHalves(chunk)
            assertMatches(halves.first, try reference.tensor("long.chunk\(i).te1_hidden_m2"), "chunk \(i) te1")
            assertMatches(halves.second, try reference.tensor("long.chunk\(i).te2_hidden_m2"), "chunk \(i) te2")
        }
        assertMatches(row(try XCTUnwrap(got.pooled), 1), try reference.tensor("long.chunk0.te2_text_embeds"), "pooled of chunk 0")
        let emptyChunk = encoderHalves(split(row(got.context, 0), axis: 1, sizes: [77, 77])[1])
        assertMatches(emptyChunk.first, row(try reference.tensor("te1.hidden_m2"), 0), "negative padded with \"\"")
    }

    /// Every case's `add_time_ids` as the UNet got them, rebuilt from the case's parameters, exactly
    /// (hand-offs: the base's and the refiner's).
    func testTimeIDsOfEveryPipelineCase() throws {
        let base = try SDXLConditioningFixtures.conditioner()
        let refiner = try SDXLConditioningFixtures.conditioner(refiner: true, forceZeros: false)
        let references = try SDXLConditioningFixtures.pipelineReferences()
        let cases = try SDXLConditioningFixtures.cases()
        XCTAssertEqual(cases.count, 24)
        for c in cases {
            let name = try XCTUnwrap(c["name"] as? String)
            let mode = try XCTUnwrap(c["mode"] as? String)
            let cfg = try XCTUnwrap((c["cfg_scale"] as? NSNumber)?.doubleValue)
            var r = ConditioningRequest(
                prompt: "a", negativePrompt: c["negative_prompt"] as? String ?? "", clipSkip: 1,
                batch: try XCTUnwrap(c["batch_size"] as? Int), withUnconditional: cfg > 1,
                outputSize: ImageSize(width: try XCTUnwrap(c["width"] as? Int), height: try XCTUnwrap(c["height"] as? Int)),
                micro: SDXLConditioningFixtures.micro(c), imageToImage: mode != "txt2img" && mode != "handoff")
            let isRefiner = c["model"] as? String == "refiner"
            let got = try (isRefiner ? refiner : base).conditioning(for: r)
            let ids = try XCTUnwrap(got.timeIDs), want = try references.tensor("\(name).time_ids")
            XCTAssertEqual(ids.shape, want.shape, name)
            XCTAssertEqual(ids.scalars, want.scalars, name)
            if mode == "handoff" {
                r.imageToImage = true
                let handed = try refiner.conditioning(for: r)
                let ids = try XCTUnwrap(handed.timeIDs), want = try references.tensor("\(name).refiner_time_ids")
                XCTAssertEqual(ids.shape, want.shape, "\(name) refiner")
                XCTAssertEqual(ids.scalars, want.scalars, "\(name) refiner")
            }
        }
    }

    /// The rules of `SDXLTimeIDs` where the cases leave them untested.
    func testNegativeTimeIDRules() {
        let out = ImageSize(width: 64, height: 48)
        var m = MicroConditioning(originalSize: ImageSize(width: 128, height: 96),
                                  cropsCoordsTopLeft: CropCoordinates(top: 8, left: 16))
        m.negativeOriginalSize = ImageSize(width: 32, height: 24)
        // txt2img: one negative size alone is not used (diffusers needs both).
        XCTAssertEqual(SDXLTimeIDs(layout: .sizes, micro: m, output: out, imageToImage: false).negative,
                       [96, 128, 8, 16, 48, 64])
        // img2img/inpaint: each negative size on its own, always the positive crop.
        m.negativeCropsCoordsTopLeft = CropCoordinates(top: 1, left: 2)
        XCTAssertEqual(SDXLTimeIDs(layout: .sizes, micro: m, output: out, imageToImage: true).negative,
                       [24, 32, 8, 16, 48, 64])
        m.negativeTargetSize = ImageSize(width: 8, height: 16)
        XCTAssertEqual(SDXLTimeIDs(layout: .sizes, micro: m, output: out, imageToImage: false).negative,
                       [24, 32, 1, 2, 16, 8])
        XCTAssertEqual(SDXLTimeIDs(layout: .aestheticScore, micro: m, output: out, imageToImage: true).negative,
                       [24, 32, 1, 2, 2.5])
    }

    private func assertMatches(_ actual: Tensor, _ expected: Tensor, _ what: String,
                               file: StaticString = #filePath, line: UInt = #line) {
        guard actual.shape == expected.shape else {
            XCTFail("\(what): shape \(actual.shape), reference \(expected.shape)", file: file, line: line)
            return
        }
        let a = actual.scalars, e = expected.scalars
        var worst: Float = 0, peak: Float = 0
        for i in a.indices {
            worst = max(worst, abs(a[i] - e[i]))
            peak = max(peak, abs(e[i]))
        }
        let error = peak > 0 ? worst / peak : worst
        XCTAssertLessThanOrEqual(error, tolerance, "\(what): relative error \(error)", file: file, line: line)
    }
}
