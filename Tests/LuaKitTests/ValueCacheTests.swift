import LuaKit
import XCTest

/// `LuaValueCache`: values kept per key path, starting over or stopping by how often they are found.
final class ValueCacheTests: XCTestCase {
    /// `t.make(a, b, c)` returns a new table `{ n = <count of tables made> }`, cached under (a, b, c).
    private func makeState(limit: Int) throws -> LuaState {
        let lua = try LuaState()
        let cache = LuaValueCache(limit: limit)
        var made = 0
        lua.register(module: "t", name: "make") { ctx in
            let found = ctx.pushCached(cache, 1, 2, 3)
            if found == .hit { return 1 }
            made += 1
            ctx.pushNewTable(fieldCapacity: 1)
            ctx.push(Int64(made))
            ctx.setField("n", in: -2)
            if found == .miss { ctx.storeCached(cache, 1, 2, 3) }
            return 1
        }
        lua.exposeGlobally(module: "t")
        return lua
    }

    func testRepeatedKeysFindTheSameValue() throws {
        let lua = try makeState(limit: 8)
        let results = try lua.run("""
            local a = t.make("x", "y", "1")
            local b = t.make("x", "y", "1")
            local c = t.make("x", "y", "2")
            local d = t.make("x", "z", "1")
            local e = t.make(1, "y", "1")
            return rawequal(a, b), rawequal(a, c), rawequal(a, d), rawequal(t.make(1, "y", "1"), e), a.n, c.n
            """, chunkName: "cache.lua")
        XCTAssertEqual(results[0], true)
        XCTAssertEqual(results[1], false, "another last key")
        XCTAssertEqual(results[2], false, "another second key")
        XCTAssertEqual(results[3], false, "keys that are not strings are never cached")
        XCTAssertEqual(results[4], 1)
        XCTAssertEqual(results[5], 2)
    }

    func testAColumnThatKeepsBeingFoundStartsOverWhenFull() throws {
        let lua = try makeState(limit: 4)
        // four values found many times fill the table; a fifth starts it over with itself only
        let results = try lua.run("""
            for round = 1, 3 do for i = 1, 4 do t.make("e", "c", "v" .. i) end end
            local fifth = t.make("e", "c", "v5")
            local again = t.make("e", "c", "v5")
            local first = t.make("e", "c", "v1")
            return rawequal(fifth, again), first.n
            """, chunkName: "cache.lua")
        XCTAssertEqual(results[0], true, "still caching after starting over")
        XCTAssertEqual(results[1], 6, "v1 was made again: the full table was dropped (v1..v4, v5, then v1)")
    }

    func testAColumnWhoseValuesRarelyRepeatStopsBeingCached() throws {
        let lua = try makeState(limit: 4)
        let results = try lua.run("""
            for i = 1, 5 do t.make("e", "mail", "m" .. i) end
            local a = t.make("e", "mail", "m1")
            local b = t.make("e", "mail", "m1")
            -- other columns are not affected
            local c = t.make("e", "code", "N")
            return rawequal(a, b), rawequal(c, t.make("e", "code", "N"))
            """, chunkName: "cache.lua")
        XCTAssertEqual(results[0], false, "no longer cached")
        XCTAssertEqual(results[1], true)
    }
}
