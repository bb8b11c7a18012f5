import LuaKit
import XCTest

private final class Cursor: LuaObject {
    static let luaTypeName = "test.Cursor"
    nonisolated(unsafe) static var alive = 0
    nonisolated(unsafe) static var closed = 0
    let limit: Int64
    var position: Int64 = 0

    init(limit: Int64) {
        self.limit = limit
        Cursor.alive += 1
    }

    deinit { Cursor.alive -= 1 }

    func luaClose() { Cursor.closed += 1 }
}

final class CoroutineAndObjectTests: XCTestCase {
    private func makeState() throws -> LuaState {
        let lua = try LuaState()
        lua.register(module: "cds", name: "await") { ctx in
            if ctx.isResumed { return ctx.returnValues(from: 3) }
            ctx.pushCopy(of: 1)
            ctx.pushCopy(of: 2)
            return ctx.yield(2)
        }
        lua.registerObjectType(
            Cursor.self,
            methods: ["position": { ctx in ctx.push(try ctx.objectArgument(1, as: Cursor.self).position); return 1 }],
            next: { ctx in
                let cursor = try ctx.objectArgument(1, as: Cursor.self)
                guard cursor.position < cursor.limit else { return 0 }
                cursor.position += 1
                ctx.push(cursor.position)
                return 1
            })
        lua.register(module: "cds", name: "range") { ctx in
            try ctx.returnIterator(over: Cursor(limit: try ctx.integerArgument(1)))
        }
        lua.register(module: "cds", name: "cursor") { ctx in
            ctx.push(object: Cursor(limit: 1))
            return 1
        }
        lua.exposeGlobally(module: "cds")
        return lua
    }

    func testYieldingBindingIsResumedByTheHostLoop() throws {
        let lua = try makeState()
        var requests: [LuaValue] = []
        let outcome = lua.runCoroutine(
            """
            local a = cds.await("double", 21)
            local ok, b = pcall(cds.await, "double", a)
            return a + b, ok
            """, chunkName: "co.lua"
        ) { values in
            requests.append(contentsOf: values)
            return [.integer((values[1].integerValue ?? 0) * 2)]
        }
        guard case .finished(let results) = outcome else { return XCTFail("\(outcome)") }
        XCTAssertEqual(results, [126, true])
        XCTAssertEqual(requests, ["double", 21, "double", 42])
    }

    func testResumeReportsYieldsAndFailures() throws {
        let lua = try makeState()
        let coroutine = try lua.startCoroutine("local x = coroutine.yield(1)\nerror('bad ' .. x)", chunkName: "c.lua")
        guard case .yielded(let first) = lua.resume(coroutine) else { return XCTFail("expected a yield") }
        XCTAssertEqual(first, [1])
        guard case .failed(let error) = lua.resume(coroutine, with: ["input"]) else { return XCTFail("expected failure") }
        XCTAssertEqual(error.message, "c.lua:2: bad input")
        XCTAssertEqual(error.line, 2)
        XCTAssertTrue(error.traceback?.contains("c.lua:2") ?? false)
        XCTAssertTrue(coroutine.isFinished)
    }

    func testIteratorObjectIsClosedOnBreakBeforeGarbageCollection() throws {
        let lua = try makeState()
        Cursor.closed = 0
        let results = try lua.run(
            """
            local sum = 0
            for i in cds.range(10) do
              sum = sum + i
              if i == 3 then break end
            end
            return sum
            """, chunkName: "iter.lua")
        XCTAssertEqual(results, [6])
        XCTAssertEqual(Cursor.closed, 1)
        XCTAssertEqual(Cursor.alive, 0)
        XCTAssertEqual(try lua.run("local n = 0 for i in cds.range(4) do n = n + i end return n", chunkName: "i.lua"), [10])
        XCTAssertEqual(Cursor.closed, 2)
    }

    func testObjectsAreTypeCheckedAndReleasedByGarbageCollection() throws {
        let lua = try makeState()
        Cursor.closed = 0
        let results = try lua.run(
            """
            local c = cds.cursor()
            local ok, err = pcall(c.position, "not a cursor")
            return tostring(c):match("^test%.Cursor") ~= nil, c:position(), ok, err, getmetatable(c)
            """, chunkName: "obj.lua")
        XCTAssertEqual(results[0], true)
        XCTAssertEqual(results[1], 0)
        XCTAssertEqual(results[2], false)
        XCTAssertTrue(results[3].stringValue?.contains("test.Cursor expected, got string") ?? false, "\(results[3])")
        XCTAssertEqual(results[4], false)
        lua.collectGarbage()
        XCTAssertEqual(Cursor.alive, 0)
        XCTAssertEqual(Cursor.closed, 1)
    }

    func testObjectsStillHeldAreReleasedWhenTheStateCloses() throws {
        var lua: LuaState? = try makeState()
        _ = try lua?.run("keep = {} for i = 1, 100 do keep[i] = cds.cursor() end", chunkName: "hold.lua")
        XCTAssertEqual(Cursor.alive, 100)
        lua = nil
        XCTAssertEqual(Cursor.alive, 0)
    }
}
