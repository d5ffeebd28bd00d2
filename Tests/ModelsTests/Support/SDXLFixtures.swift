import Foundation
import Tensor
import Weights

/// The SDXL fixtures made by scripts/fixtures/make_sdxl_fixtures.py (Tests/Fixtures/sdxl/<model>/).
enum SDXLFixtures {
    static let models = ["base", "refiner", "inpaint"]

    static var root: String {
        // Tests/ModelsTests/Support/SDXLFixtures.swift -> Tests/Fixtures/sdxl
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Fixtures/sdxl").path
    }

    static func path(_ model: String, _ relative: String) -> String {
        root + "/" + model + "/" + relative
    }

    static func reference(_ model: String) throws -> SafeTensorsFile {
        try SafeTensorsFile(path: path(model, "reference.safetensors"))
    }

    /// Token ids stored as float32 [B, L] (exact below 2^24) -> rows.
    static func ids(_ reference: SafeTensorsFile, _ name: String) throws -> [[Int32]] {
        let ids = try reference.tensor(name)
        let values = ids.scalars
        let length = ids.shape[1]
        return (0..<ids.shape[0]).map { row in values[(row * length)..<((row + 1) * length)].map { Int32($0) } }
    }
}
