import LuaKit
import XCTest

final class BindingRoundTripTests: XCTestCase {
    private func makeState() throws -> LuaState {
        let lua = try LuaState()
        lua.register(module: "t", name: "echo") { ctx in
            let values = (1...max(ctx.top, 1)).map { ctx.value(at: $0) }
            for value in values { ctx.push(value) }
            return Int32(values.count)
        }
        lua.register(module: "t", name: "describe") { ctx in
            ctx.push("\(ctx.typeName(at: 1)):\(ctx.isInteger(at: 1))")
            return 1
        }
        lua.exposeGlobally(module: "t")
        return lua
    }

    func testStringsWithUTF8AndEmbeddedNULsSurviveARoundTrip() throws {
        let lua = try makeState()
        lua.register(module: "t", name: "length") { ctx in
            let text = try ctx.stringArgument(1)
            ctx.push(Int64(text.utf8.count))
            ctx.push(text)
            return 2
        }
        let results = try lua.run(
            """
            local s = "h\\u{E9}llo \\u{2713} a\\0b"
            local n, back = t.length(s)
            return n == #s, back == s, t.echo(s) == s
            """, chunkName: "strings.lua")
        XCTAssertEqual(results, [.bool(true), .bool(true), .bool(true)])
        let text = try lua.run("return 'x\\0y é'", chunkName: "nul.lua")
        XCTAssertEqual(text, [.string("x\u{0}y é")])
    }

    func testIntegersAndFloatsKeepTheirSubtype() throws {
        let lua = try makeState()
        let results = try lua.run(
            """
            local i, f, big = t.echo(3, 3.0, math.maxinteger)
            return math.type(i), math.type(f), big == math.maxinteger, t.describe(7), t.describe(7.5)
            """, chunkName: "numbers.lua")
        XCTAssertEqual(results, ["integer", "float", true, "number:true", "number:false"])
        XCTAssertEqual(try lua.run("return 2^53, 10 // 3", chunkName: "n.lua"), [.number(9_007_199_254_740_992), .integer(3)])
    }

    func testBooleansNilAndNestedTablesRoundTrip() throws {
        let lua = try makeState()
        let results = try lua.run(
            """
            local a, b, c, d = t.echo(true, false, nil, {x = {y = {1, 2, "three"}}, flag = false})
            return a, b, c, d.x.y[3], #d.x.y, d.flag, select('#', t.echo(nil, nil))
            """, chunkName: "mixed.lua")
        XCTAssertEqual(results, [true, false, .nil, "three", 3, false, 2])
        let table = try lua.run("return {name = 'n', list = {10, 20}}", chunkName: "tbl.lua")
        XCTAssertEqual(table.first?["name"], "n")
        XCTAssertEqual(table.first?["list"], .array([10, 20]))
    }

    func testTypedAccessorsDoNotConvertNumbersToStrings() throws {
        let lua = try makeState()
        lua.register(module: "t", name: "fields") { ctx in
            let table = try ctx.tableArgument(1)
            ctx.push(ctx.string(field: "name", in: table) ?? "<none>")
            ctx.push(ctx.string(field: "count", in: table) ?? "<not a string>")
            ctx.push(ctx.integer(field: "count", in: table) ?? -1)
            var keys = 0
            try ctx.forEachEntry(in: table) { key, _ in if ctx.string(at: key) != nil { keys += 1 } }
            ctx.push(keys)
            return 4
        }
        let results = try lua.run(
            "local r = {name = 'acc', count = 5, [1] = 'x'} return t.fields(r)", chunkName: "f.lua")
        XCTAssertEqual(results, ["acc", "<not a string>", 5, 2])
    }

    func testHostCanCallLuaFunctionsThroughTheFastPath() throws {
        let lua = try makeState()
        try lua.run("function add(a, b) return a + b end", chunkName: "add.lua")
        let add = try lua.reference(global: "add")
        defer { lua.release(add) }
        var total: Int64 = 0
        for i in 0..<1000 {
            total += try lua.call(add, arguments: { ctx in ctx.push(i); ctx.push(2) }) { ctx, first, count in
                XCTAssertEqual(count, 1)
                return ctx.integer(at: first) ?? 0
            }
        }
        XCTAssertEqual(total, 499_500 + 2000)
        XCTAssertEqual(try lua.callGlobal("add", [1.5, 1]), [.number(2.5)])
    }
}
