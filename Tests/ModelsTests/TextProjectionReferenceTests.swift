import Foundation
import Models
import Tensor
import Weights
import XCTest

/// A text encoder with a projection head (transformers' `CLIPTextModelWithProjection`, SDXL's second encoder)
/// against transformers (scripts/fixtures/make_text_projection_fixtures.py): final-normed states, raw hidden
/// states of any layer, and the pooled output with both of transformers' EOS rules.
final class TextProjectionReferenceTests: XCTestCase {
    /// float32 vs PyTorch float32 with different summation orders: ≤ 1e-4 relative (see `relativeError`).
    let tolerance: Float = 1e-4

    private var folder: String {
        URL(fileURLWithPath: SDFixtures.root).deletingLastPathComponent()
            .appendingPathComponent("models/clip_with_projection").path
    }

    private func config() throws -> CLIPTextConfig {
        try JSONDecoder().decode(CLIPTextConfig.self, from: Data(contentsOf: URL(fileURLWithPath: folder + "/config.json")))
    }

    private func weights() throws -> SafeTensorsFile { try SafeTensorsFile(path: folder + "/model.safetensors") }
    private func reference() throws -> SafeTensorsFile { try SafeTensorsFile(path: folder + "/reference.safetensors") }

    private func ids() throws -> [[Int32]] {
        let ids = try reference().tensor("input_ids")
        let length = ids.shape[1]
        return (0..<ids.shape[0]).map { row in ids.scalars[(row * length)..<((row + 1) * length)].map { Int32($0) } }
    }

    func testStatesOfEveryKindMatchTransformers() throws {
        let encoder = try CLIPTextEncoder(config: try config(), weights: try weights())
        let reference = try reference()
        let ids = try ids()
        assertMatches(try encoder.encode(ids: ids), try reference.tensor("last_hidden_state"),
                      tolerance: tolerance, "last_hidden_state")
        for layer in [0, 2, 3] {
            let raw = try encoder.encode(ids: ids, states: .raw(layer: layer), pooled: false)
            assertMatches(raw.states, try reference.tensor("hidden_states.\(layer)"), tolerance: tolerance,
                          "hidden_states[\(layer)] (no final norm)")
            XCTAssertNil(raw.pooled)
        }
        // SDXL's request: penultimate raw states and the pooled output from the same pass.
        let both = try encoder.encode(ids: ids, states: .raw(layer: 2), pooled: true)
        assertMatches(both.states, try reference.tensor("hidden_states.2"), tolerance: tolerance, "penultimate with pooled")
        assertMatches(try XCTUnwrap(both.pooled), try reference.tensor("text_embeds"), tolerance: tolerance,
                      "text_embeds (first EOS position, projected)")
        let normed = try encoder.encode(ids: ids, states: .normed(clipSkip: 1), pooled: true)
        assertMatches(try XCTUnwrap(normed.pooled), try reference.tensor("text_embeds"), tolerance: tolerance,
                      "text_embeds next to last_hidden_state")
        XCTAssertEqual(normed.states.scalars, try encoder.encode(ids: ids).scalars, "the pooled pass leaves the states alone")
        XCTAssertThrowsError(try encoder.encode(ids: ids, states: .raw(layer: 4), pooled: false)) {
            XCTAssertEqual($0 as? CLIPTextEncoderError, .layerOutOfRange(layer: 4, layers: 3))
        }
    }

    /// Configs with eos_token_id 2 (before transformers PR #24773) pool at the argmax of the ids.
    func testLegacyEOSRulePoolsAtLargestID() throws {
        var legacy = try config()
        legacy.eosTokenId = 2
        let encoder = try CLIPTextEncoder(config: legacy, weights: try weights())
        let pooled = try XCTUnwrap(try encoder.encode(ids: try ids(), states: .normed(clipSkip: 1), pooled: true).pooled)
        assertMatches(pooled, try reference().tensor("legacy.text_embeds"), tolerance: tolerance, "legacy text_embeds")
    }

    /// Without text_projection the pooled output is the final-normed last layer at EOS (transformers' pooler_output).
    func testWithoutProjectionPooledIsUnprojected() throws {
        let source = try InMemorySource(copying: try weights(), including: { $0 != "text_projection.weight" })
        let encoder = try CLIPTextEncoder(config: try config(), weights: source)
        let pooled = try XCTUnwrap(try encoder.encode(ids: try ids(), states: .normed(clipSkip: 1), pooled: true).pooled)
        let last = try reference().tensor("last_hidden_state")
        // EOS (id 500) first at 5 and 3; the third row has none, so position 0.
        var rows: [Float] = []
        for (b, p) in [5, 3, 0].enumerated() {
            rows += last.scalars[((b * 16 + p) * 32)..<((b * 16 + p + 1) * 32)]
        }
        assertMatches(pooled, Tensor(shape: [3, 32], values: rows), tolerance: tolerance, "pooler_output")
        XCTAssertEqual(encoder.parameterCount + 24 * 32,
                       try CLIPTextEncoder(config: try config(), weights: try weights()).parameterCount)
    }

    func testProjectionIsShapeCheckedAndNeedsEveryLayer() throws {
        var wrong = try config()
        wrong.projectionDim = 16
        XCTAssertThrowsError(try CLIPTextEncoder(config: wrong, weights: try weights())) {
            XCTAssertEqual($0 as? ModelLoadError,
                           .shapeMismatch(name: "text_projection.weight", expected: [16, 32], found: [24, 32]))
        }
        // An encoder that stops early validates the projection but holds neither it nor the last layer.
        let early = try CLIPTextEncoder(config: try config(), weights: try weights(), layersToRun: 2)
        XCTAssertThrowsError(try early.encode(ids: try ids(), states: .normed(clipSkip: 1), pooled: true)) {
            XCTAssertEqual($0 as? CLIPTextEncoderError, .pooledNeedsEveryLayer(layersToRun: 2, layers: 3))
        }
        assertMatches(try early.encode(ids: try ids(), states: .raw(layer: 2), pooled: false).states,
                      try reference().tensor("hidden_states.2"), tolerance: tolerance, "penultimate of an early-stopping encoder")
    }
}
