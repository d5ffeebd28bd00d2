import Foundation
import Tensor
import Weights
import XCTest

/// The reference fixtures made by scripts/fixtures/make_sd_fixtures.py (Tests/Fixtures/sd/<family>/).
enum SDFixtures {
    static let families = ["sd1", "sd2v", "sd1-inpaint"]

    static var root: String {
        // Tests/ModelsTests/Support/Fixtures.swift -> Tests/Fixtures/sd
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Fixtures/sd").path
    }

    static func path(_ family: String, _ relative: String) -> String {
        root + "/" + family + "/" + relative
    }

    static func reference(_ family: String) throws -> SafeTensorsFile {
        try SafeTensorsFile(path: path(family, "reference.safetensors"))
    }

    /// te.input_ids [B, 77] stored as float32 (exact for ids < 2^24) -> token id rows.
    static func inputIDs(_ reference: SafeTensorsFile) throws -> [[Int32]] {
        let ids = try reference.tensor("te.input_ids")
        let values = ids.scalars
        let length = ids.shape[1]
        return (0..<ids.shape[0]).map { row in values[(row * length)..<((row + 1) * length)].map { Int32($0) } }
    }

    static func decode<T: Decodable>(_ type: T.Type, _ family: String, _ relative: String) throws -> T {
        let data = try Data(contentsOf: URL(fileURLWithPath: path(family, relative)))
        return try JSONDecoder().decode(type, from: data)
    }
}

/// The one error measure every reference comparison in ModelsTests uses:
///
///     relativeError(actual, expected) = max_i |actual_i − expected_i| / max_i |expected_i|
///
/// i.e. the worst element error relative to the reference tensor's largest magnitude (∞-norm relative
/// error). Per-element relative errors would be meaningless where the reference crosses zero; scaling by
/// the tensor's peak makes 1e-4 mean "agrees to ~4 significant digits of the output's range", which is
/// what float32 with different (but correct) summation orders delivers. All-zero references fall back
/// to the absolute error.
func relativeError(_ actual: Tensor, _ expected: Tensor) -> Float {
    precondition(actual.shape == expected.shape)
    let a = actual.scalars, e = expected.scalars
    var worst: Float = 0, peak: Float = 0
    for i in a.indices {
        worst = max(worst, abs(a[i] - e[i]))
        peak = max(peak, abs(e[i]))
    }
    if worst.isNaN || a.contains(where: { !$0.isFinite }) { return .infinity }
    return peak > 0 ? worst / peak : worst
}

/// Asserts `relativeError(actual, expected) <= tolerance` after checking shapes match.
func assertMatches(_ actual: Tensor, _ expected: Tensor, tolerance: Float, _ what: String,
                   file: StaticString = #filePath, line: UInt = #line) {
    guard actual.shape == expected.shape else {
        XCTFail("\(what): shape \(actual.shape), reference \(expected.shape)", file: file, line: line)
        return
    }
    let error = relativeError(actual, expected)
    // MODELS_PRINT_ERRORS=1 swift test --filter ModelsTests shows the measured margins.
    if ProcessInfo.processInfo.environment["MODELS_PRINT_ERRORS"] != nil { print("relative error \(error): \(what)") }
    XCTAssertLessThanOrEqual(error, tolerance, "\(what): relative error \(error)", file: file, line: line)
}

extension SDFixtures {
    /// The hyper-parameters the tiny single files follow (declared in family.json; see make_sd_fixtures.py):
    /// they cannot use SD's 64-channel heads or 32 norm groups with 16–32 channels.
    static func conventions(_ family: String) throws -> SingleFileConventions {
        var conventions = SingleFileConventions.stableDiffusion
        let data = try Data(contentsOf: URL(fileURLWithPath: path(family, "family.json")))
        let info = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let declared = try XCTUnwrap(info["conventions"] as? [String: Int])
        if let heads = declared["sd1_heads"] { conventions.sd1AttentionHeads = heads }
        if let dim = declared["sd2_head_dim"] { conventions.sd2AttentionHeadDim = dim }
        conventions.textAttentionHeadDim = 8  // text encoder: hidden 32, 4 heads
        conventions.unetNormGroups = 8
        conventions.vaeNormGroups = 4
        return conventions
    }
}
