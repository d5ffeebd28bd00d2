@testable import Daemon
import DiffusionProtocol
import PluginAPI
import StrictJSON
import XCTest

/// Progress reports come from plugins (external ones through the C ABI with any int64): the times the daemon
/// derives from them must never trap.
final class ProgressTimesTests: XCTestCase {
    func testMillisecondsAreClampedInsteadOfTrapping() {
        XCTAssertEqual(Job.millis(1.5), 1500)
        XCTAssertEqual(Job.millis(0.0004), 0)
        XCTAssertEqual(Job.millis(-3), 0)
        XCTAssertEqual(Job.millis(.nan), 0)
        XCTAssertEqual(Job.millis(.infinity), 9_000_000_000_000_000)
        XCTAssertEqual(Job.millis(1e300), 9_000_000_000_000_000)
    }

    /// Step 1 of Int.max extrapolates an absurd remaining time (≥ 1e13 s even a microsecond in): the
    /// notification carries it clamped instead of the daemon trapping on the Int conversion.
    func testHugeStepCountsGiveBoundedEstimates() throws {
        let seen = Captured()
        let context = JobContext(requestID: .integer(1), method: "x", pathPolicy: PathPolicy(), modelsDirectory: nil,
                                 cancellation: CancellationToken(), progressSink: { seen.value = $0 })
        usleep(1000)
        context.progress(stage: "hash", step: 1, steps: Int.max)
        let update = try XCTUnwrap(seen.value)
        let params = Job.progressParams(id: .integer(1), update)
        XCTAssertEqual(params["remaining_ms"], JSONValue.integer(9_000_000_000_000_000))
        XCTAssertNotNil(params["elapsed_ms"]?.intValue)
    }
}

private final class Captured: @unchecked Sendable { var value: ProgressUpdate? }
