import XCTest
final class WeightsSmokeTests: XCTestCase { func testNothingYet() {} }
