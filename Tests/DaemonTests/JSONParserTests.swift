import DiffusionProtocol
import PluginAPI
import StrictJSON
import XCTest

final class JSONParserTests: XCTestCase {
    func testRoundTripKeepsIntegersExact() throws {
        let text = #"{"a":[1,-2,9007199254740993,1.5,"x\n\u00e9\ud83d\ude00",true,false,null],"b":{}}"#
        let value = try JSONParser.parse(text)
        XCTAssertEqual(value["a"]?.arrayValue?[2], .integer(9_007_199_254_740_993), "beyond 2^53 must stay exact")
        XCTAssertEqual(value["a"]?.arrayValue?[4], .string("x\né😀"))
        XCTAssertEqual(try JSONParser.parse(JSONWriter.serialize(value)), value)
    }

    func testRejectsWhatRFC8259Rejects() {
        for bad in ["", "01", "1.", ".5", "+1", "[1,]", "{\"a\":1,}", "'x'", "\"\u{01}\"", "NaN", "Infinity", "[1] 2",
                    "\"\\ud800\"", "\"\\x\"", "tru", "{\"a\" 1}", "1e"] {
            XCTAssertThrowsError(try JSONParser.parse(bad), bad)
        }
    }

    func testInvalidUTF8IsLocated() {
        XCTAssertThrowsError(try JSONParser.parse([0x22, 0xC0, 0x80, 0x22])) { error in
            XCTAssertEqual(error as? JSONParseError, .invalidUTF8(offset: 1), "overlong encodings are invalid")
        }
        XCTAssertThrowsError(try JSONParser.parse([0x22, 0xED, 0xA0, 0x80, 0x22])) { error in
            XCTAssertEqual(error as? JSONParseError, .invalidUTF8(offset: 1), "encoded surrogates are invalid")
        }
        XCTAssertThrowsError(try JSONParser.parse([0x22, 0xE2, 0x82])) { error in
            XCTAssertEqual(error as? JSONParseError, .invalidUTF8(offset: 1), "truncated sequence")
        }
    }

    func testDepthLimitCountsContainers() throws {
        let ok = String(repeating: "[", count: 64) + String(repeating: "]", count: 64)
        XCTAssertNoThrow(try JSONParser.parse(ok))
        let tooDeep = String(repeating: "[", count: 65) + String(repeating: "]", count: 65)
        XCTAssertThrowsError(try JSONParser.parse(tooDeep)) { XCTAssertEqual($0 as? JSONParseError, .tooDeep(limit: 64)) }
    }

    func testSchemaValidatorNamesTheField() {
        let schema: JSONValue = ["type": "object", "required": ["size"], "additionalProperties": false,
                                 "properties": ["size": ["type": "array", "items": ["type": "integer", "minimum": 1], "maxItems": 2],
                                                "image": ImageSchemas.input(description: "x")]]
        func violation(_ v: JSONValue) -> SchemaViolation? {
            do { try SchemaValidator.validate(v, against: schema); return nil } catch { return error as? SchemaViolation }
        }
        XCTAssertNil(violation(["size": [1, 2]]))
        XCTAssertEqual(violation(["size": [1, 0]])?.field, "size[1]")
        XCTAssertEqual(violation(["size": [1, 2, 3]])?.reason, "must have at most 2 items")
        XCTAssertEqual(violation([:])?.field, "size")
        XCTAssertEqual(violation(["size": [1], "image": ["path": 3]])?.field, "image.path")
        XCTAssertEqual(violation(["size": [1], "image": ["path": "/a", "base64": "x"]])?.reason, "must have only one of \"path\", \"base64\"")
        XCTAssertEqual(violation(["size": [1], "image": ["url": "http://x"]])?.field, "image")
        XCTAssertNil(violation(["size": [1], "image": ["base64": "AAAA"]]))
    }
}
