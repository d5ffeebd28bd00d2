import Engine
import XCTest

/// A1111's `<kind:args>` extra-network tags (`extra_networks.parse_prompt`, `ExtraNetworkParams`).
final class PromptAdapterTagsTests: XCTestCase {
    func testTagsAreRemovedAndParsed() throws {
        let t = PromptAdapterTags(parsing: "a <hypernet:anime/v2:0.6>cat, <lora:detail:te=0.5:unet=1> dog<lyco:x>")
        XCTAssertEqual(t.text, "a cat,  dog")
        XCTAssertEqual(t.tags.map(\.kind), ["hypernet", "lora", "lyco"])
        XCTAssertEqual(t.tags(kind: "hypernet").map(\.name), ["anime/v2"])
        XCTAssertEqual(try t.tags[0].number(at: 1)?.get(), 0.6)
        XCTAssertNil(t.tags[0].number(at: 2), "absent")
        XCTAssertEqual(t.tags[1].positional, ["detail"])
        XCTAssertEqual(t.tags[1].named, ["te": "0.5", "unet": "1"])
        XCTAssertEqual(try t.tags[1].number(named: "te")?.get(), 0.5)
        XCTAssertEqual(t.tags[2].text, "<lyco:x>")
    }

    func testWhatIsNotATagStaysText() {
        for prompt in ["a < b > c", "<:x>", "<hypernet:>", "<hypernet x:1>", "<hypernet:unclosed", "x<>y", "<a-b:c>",
                       "(word:1.2) <", "<<hypernet:a>", "emoji <😀:a>"] {
            let t = PromptAdapterTags(parsing: prompt)
            if prompt == "<<hypernet:a>" {
                XCTAssertEqual(t.text, "<")
                XCTAssertEqual(t.tags.map(\.name), ["a"])
            } else {
                XCTAssertEqual(t.text, prompt, prompt)
                XCTAssertEqual(t.tags, [], prompt)
            }
        }
    }

    func testBadNumbersAreReportedWithTheTag() {
        let t = PromptAdapterTags(parsing: "<hypernet:a:strong> <hypernet:b:inf> <hypernet:c: 0.25 > <hypernet:d:1=2=3>")
        XCTAssertEqual(t.tags[0].number(at: 1), .failure(PromptAdapterTags.TagArgumentError(tag: "<hypernet:a:strong>", item: "strong")))
        XCTAssertEqual(t.tags[0].number(at: 1).map { r in (try? r.get()) == nil }, true)
        if case .success? = t.tags[1].number(at: 1) { XCTFail("inf is no weight") }
        XCTAssertEqual(try t.tags[2].number(at: 1)?.get(), 0.25, "surrounding spaces are fine, as Python's float()")
        XCTAssertEqual(t.tags[3].positional, ["d", "1=2=3"], "Python's split('=', 2) with three parts is positional")
    }
}
