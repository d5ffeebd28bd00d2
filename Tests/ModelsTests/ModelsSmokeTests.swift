import XCTest
final class ModelsSmokeTests: XCTestCase { func testNothingYet() {} }
