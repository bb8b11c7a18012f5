import XCTest
import YAMLLimits

final class YAMLLimitsTests: XCTestCase {
    func test_ordinaryYAMLIsWithinTheLimits() {
        XCTAssertNil(YAMLLimits.violation(in: ""))
        XCTAssertNil(YAMLLimits.violation(in: "entities:\n  - name: a\n    attributes: [ { name: b, type: string } ]\n"))
        // an anchor used a few times, as people do for shared settings
        XCTAssertNil(YAMLLimits.violation(in: "x: &common { retries: 2 }\njobs:\n  - { name: a, <<: *common }\n  - { name: b, <<: *common }\n"))
        // not YAML at all: left to the reader, which names the place
        XCTAssertNil(YAMLLimits.violation(in: "a: [1, 2\n"))
    }

    /// Nesting is counted without recursion: 100,000 levels are reported, not a crash.
    func test_deepNestingIsReported() {
        XCTAssertNil(YAMLLimits.violation(in: String(repeating: "[", count: 64) + String(repeating: "]", count: 64)))
        let deep = "entities: " + String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        XCTAssertEqual(YAMLLimits.violation(in: deep), "the YAML nests deeper than 64 levels (line 1)")
        var block = ""
        for level in 0..<70 { block += String(repeating: " ", count: level) + "k\(level):\n" }
        XCTAssertNotNil(YAMLLimits.violation(in: block + String(repeating: " ", count: 70) + "v: 1\n"))
    }

    /// Aliases of aliases are counted by the size they expand to, without expanding them.
    func test_aliasExpansionIsCountedNotPerformed() {
        func bomb(_ width: Int) -> String {
            let o = Array(repeating: "*o", count: width).joined(separator: ", ")
            let a = Array(repeating: "*a", count: width).joined(separator: ", ")
            let e = Array(repeating: "*e", count: width).joined(separator: ", ")
            return "x_o: &o {value: 1, label: a}\nx_a: &a {name: c, options: [\(o)]}\nx_e: &e {name: e, attributes: [\(a)]}\nentities: [\(e)]\n"
        }
        XCTAssertNil(YAMLLimits.violation(in: bomb(10)))
        // a billion values once expanded: a check that expanded them would not finish
        XCTAssertEqual(YAMLLimits.violation(in: bomb(1000))?.hasPrefix("the YAML holds more than 2000000 values"), true)
    }

    /// A key given twice in one mapping is reported (a YAML reader keeps the last one).
    func test_aKeyGivenTwiceIsReported() {
        XCTAssertEqual(YAMLLimits.violation(in: "jobs:\n  - name: a\n    schedule: x\n    name: b\n"),
                       "the key 'name' is given twice in one mapping (line 4); the first would be ignored")
        XCTAssertNotNil(YAMLLimits.violation(in: "{ a: 1, b: { c: 2 }, a: 3 }"))
        // the same key in different mappings, and values equal to keys, are fine
        XCTAssertNil(YAMLLimits.violation(in: "- { name: a, type: name }\n- { name: b }\nx: { name: { name: c } }\n".replacingOccurrences(of: "x: ", with: "- ")))
        XCTAssertNil(YAMLLimits.violation(in: "a: [ a, a ]\nb: a\n"))
    }
}
