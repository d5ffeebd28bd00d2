import XCTest
@testable import Sampling

final class SamplerChoiceTests: XCTestCase {
    func testAPINames() throws {
        let table: [(String, String?, SamplerKind, SigmaScheduleKind)] = [
            ("euler", nil, .euler, .normal), ("euler_a", nil, .eulerAncestral, .normal),
            ("heun", "karras", .heun, .karras), ("dpmpp_2m", "karras", .dpmpp2m, .karras),
            ("dpmpp_2m_sde", "exponential", .dpmpp2mSDE, .exponential), ("dpmpp_sde", "sgm_uniform", .dpmppSDE, .sgmUniform),
            ("ddim", "normal", .ddim, .normal), ("lms", "simple", .lms, .simple), ("lcm", nil, .lcm, .normal),
            ("euler_ancestral", "discrete", .eulerAncestral, .normal),
        ]
        for (sampler, scheduler, kind, schedule) in table {
            XCTAssertEqual(try SamplerChoice.parse(sampler: sampler, scheduler: scheduler),
                           SamplerChoice(sampler: kind, schedule: schedule), "\(sampler) \(scheduler ?? "-")")
        }
    }

    func testA1111Names() throws {
        let table: [(String, SamplerKind, SigmaScheduleKind)] = [
            ("Euler a", .eulerAncestral, .normal), ("Euler", .euler, .normal), ("Heun", .heun, .normal),
            ("DPM++ 2M", .dpmpp2m, .normal), ("DPM++ 2M Karras", .dpmpp2m, .karras),
            ("DPM++ SDE Karras", .dpmppSDE, .karras), ("DPM++ 2M SDE Karras", .dpmpp2mSDE, .karras),
            ("DPM++ 2M SDE Exponential", .dpmpp2mSDE, .exponential), ("DDIM", .ddim, .normal),
            ("LMS", .lms, .normal), ("LMS Karras", .lms, .karras), ("LCM", .lcm, .normal),
        ]
        for (name, kind, schedule) in table {
            let choice = try SamplerChoice.parse(sampler: name)
            XCTAssertEqual(choice, SamplerChoice(sampler: kind, schedule: schedule), name)
            XCTAssertEqual(choice.displayName, name, "round trip of \(name)")
        }
        // A1111 1.6+ sends the schedule separately ("Automatic" = sampler default).
        XCTAssertEqual(try SamplerChoice.parse(sampler: "DPM++ 2M", scheduler: "Karras"),
                       SamplerChoice(sampler: .dpmpp2m, schedule: .karras))
        XCTAssertEqual(try SamplerChoice.parse(sampler: "DPM++ 2M Karras", scheduler: "Automatic"),
                       SamplerChoice(sampler: .dpmpp2m, schedule: .karras))
        XCTAssertEqual(try SamplerChoice.parse(sampler: "Euler", scheduler: "SGM Uniform"),
                       SamplerChoice(sampler: .euler, schedule: .sgmUniform))
    }

    func testRejectsUnknownAndConflicting() {
        XCTAssertThrowsError(try SamplerChoice.parse(sampler: "UniPC")) {
            XCTAssertEqual($0 as? SamplingError, .unknownSampler("UniPC"))
        }
        XCTAssertThrowsError(try SamplerChoice.parse(sampler: "euler", scheduler: "beta")) {
            XCTAssertEqual($0 as? SamplingError, .unknownSchedule("beta"))
        }
        XCTAssertThrowsError(try SamplerChoice.parse(sampler: "DPM++ 2M Karras", scheduler: "exponential"))
        XCTAssertThrowsError(try SamplerChoice.parse(sampler: ""))
    }
}
