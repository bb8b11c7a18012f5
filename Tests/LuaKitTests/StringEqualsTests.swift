import LuaKit
import XCTest

/// `stringEquals` compares a Lua value with bytes exactly: every length around the eight-byte
/// steps, differences in the first word and in the tail, and values that are not strings.
final class StringEqualsTests: XCTestCase {
    func testComparesBytesExactlyAtEveryLengthAndPosition() throws {
        let lua = try LuaState()
        var results: [String] = []
        lua.register(module: "t", name: "eq") { ctx in
            let expected = Array((ctx.string(at: 2) ?? "").utf8)
            results.append(ctx.stringEquals(at: 1, expected) ? "y" : "n")
            return 0
        }
        lua.exposeGlobally(module: "t")
        try lua.run("""
            t.eq("", "")
            t.eq("a", "")
            t.eq("primarycontactid", "primarycontactid")
            t.eq("primarycontactid", "primarycontactix")
            t.eq("primarycontactid", "xrimarycontactid")
            t.eq("new_count", "new_counx")
            t.eq("new_coun", "new_coun")
            t.eq("new_coun", "new_cous")
            t.eq("abc", "abcd")
            t.eq("a\\0b", "a\\0c")
            t.eq(42, "42")
            """, chunkName: "eq.lua")
        XCTAssertEqual(results, ["y", "n", "y", "n", "n", "n", "y", "n", "n", "n", "n"])
    }
}
