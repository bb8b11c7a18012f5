import LuaKit
import XCTest

private struct Point: LuaInlineValue, Equatable {
    static let luaTypeName = "test.Point"
    var x: Int64
    var y: Int64
}

private struct Other: LuaInlineValue {
    static let luaTypeName = "test.Other"
    var value: Int64
}

/// Values held inside their userdata: no Swift object, no finalizer.
final class InlineValueTests: XCTestCase {
    private func makeState() throws -> LuaState {
        let lua = try LuaState()
        lua.registerInlineType(Point.self, metamethods: [
            "__tostring": { ctx in
                guard let point = ctx.inline(at: 1, as: Point.self) else { return 0 }
                ctx.push("(\(point.x), \(point.y))")
                return 1
            },
        ])
        lua.registerInlineType(Other.self)
        lua.register(module: "t", name: "point") { ctx in
            ctx.push(inline: Point(x: try ctx.integerArgument(1), y: try ctx.integerArgument(2)))
            return 1
        }
        lua.register(module: "t", name: "other") { ctx in
            ctx.push(inline: Other(value: 7))
            return 1
        }
        lua.register(module: "t", name: "sum") { ctx in
            guard let point = ctx.inline(at: 1, as: Point.self) else { throw LuaError.argument(1, "test.Point expected") }
            ctx.push(point.x + point.y)
            return 1
        }
        lua.exposeGlobally(module: "t")
        return lua
    }

    func testInlineValuesRoundTripAndAreTypeChecked() throws {
        let lua = try makeState()
        let results = try lua.run("""
            local p = t.point(3, 4)
            local ok, err = pcall(t.sum, t.other())
            return t.sum(p), tostring(p), ok, err, getmetatable(p)
            """, chunkName: "inline.lua")
        XCTAssertEqual(results[0], 7)
        XCTAssertEqual(results[1], "(3, 4)")
        XCTAssertEqual(results[2], false)
        XCTAssertTrue(results[3].stringValue?.contains("test.Point expected") ?? false, "\(results[3])")
        XCTAssertEqual(results[4], false, "the metatable is protected")
    }
}
