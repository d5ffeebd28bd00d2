import Foundation
import Models
import Weights
import XCTest

/// The family of a ControlNet from its encoder alone: SD 2's linear transformer projections say SD 2 whatever the
/// context width (a tiny or fine-tuned SD 2 model's), SD 1's convolutional proj_in never do.
final class ControlNetFamilyTests: XCTestCase {
    func testLinearProjectionsMeanSD2() {
        XCTAssertEqual(ControlNetFamily.detect(contextDim: 1024, addedEmbedding: false, linearProjection: true), .sd2)
        XCTAssertEqual(ControlNetFamily.detect(contextDim: 32, addedEmbedding: false, linearProjection: true), .sd2)
        XCTAssertEqual(ControlNetFamily.detect(contextDim: 32, addedEmbedding: false, linearProjection: false), .sd1)
        XCTAssertEqual(ControlNetFamily.detect(contextDim: 768, addedEmbedding: false, linearProjection: false), .sd1)
        XCTAssertEqual(ControlNetFamily.detect(contextDim: 2048, addedEmbedding: true, linearProjection: true), .sdxl)
    }

    func testTheTinySD2ControlNetIsSD2() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/controlnet/models")
        XCTAssertEqual(try ControlNetFiles.open(path: root.appendingPathComponent("sd2-a").path).family, .sd2)
        XCTAssertEqual(try ControlNetFiles.open(path: root.appendingPathComponent("sd1-a").path).family, .sd1)
        XCTAssertEqual(try ControlNetFiles.open(path: root.appendingPathComponent("sd1-a-ldm.safetensors").path).family, .sd1)
    }
}
