import LuaKit
import XCTest

private final class Tracked {
    nonisolated(unsafe) static var alive = 0
    let payload = [UInt8](repeating: 7, count: 1024)
    init() { Tracked.alive += 1 }
    deinit { Tracked.alive -= 1 }
}

private struct UpsertFailed: Error, CustomStringConvertible {
    var description: String { "upsert failed" }
}

final class BindingErrorTests: XCTestCase {
    func testArgumentErrorUsesLuaWordingWithChunkAndLine() throws {
        let lua = try LuaState()
        lua.register(module: "cds", name: "upsert") { ctx in
            _ = try ctx.stringArgument(1)
            return 0
        }
        lua.exposeGlobally(module: "cds")
        XCTAssertThrowsError(try lua.run("local x = 1\ncds.upsert(42)", chunkName: "job.lua")) { error in
            let failure = error as? LuaScriptError
            XCTAssertEqual(failure?.kind, .runtime)
            XCTAssertEqual(failure?.message, "job.lua:2: bad argument #1 to 'upsert' (string expected, got number)")
            XCTAssertEqual(failure?.chunk, "job.lua")
            XCTAssertEqual(failure?.line, 2)
            XCTAssertTrue(failure?.traceback?.contains("job.lua:2: in main chunk") ?? false, "\(String(describing: failure?.traceback))")
        }
    }

    func testSwiftErrorsCaughtByPcallRunDefersAndLeakNothing() throws {
        let lua = try LuaState()
        var defersRun = 0
        lua.register(module: "cds", name: "fail") { ctx in
            let tracked = Tracked()
            let text = String(repeating: "heap string ", count: 4)
            defer { defersRun += 1 }
            if tracked.payload.count + text.count > 0 { throw UpsertFailed() }
            return 0
        }
        lua.exposeGlobally(module: "cds")
        let results = try lua.run(
            """
            local last
            for i = 1, 100000 do
              local ok, err = pcall(function() cds.fail() end)
              assert(not ok)
              last = err
            end
            return last
            """, chunkName: "leak.lua")
        XCTAssertEqual(results, ["leak.lua:3: upsert failed"])
        // Called directly by pcall (a C function) there is no Lua line to prefix, as with error().
        XCTAssertEqual(try lua.run("return select(2, pcall(cds.fail))", chunkName: "direct.lua"), ["upsert failed"])
        XCTAssertEqual(defersRun, 100_001)
        XCTAssertEqual(Tracked.alive, 0)
    }

    func testStructuredErrorTablesKeepTheirCodeThroughPcallAndIntoSwift() throws {
        let lua = try LuaState()
        lua.register(module: "cds", name: "find") { _ in
            throw LuaError.structured(code: "0x80040217", message: "record not found", fields: ["key": "A1"])
        }
        lua.exposeGlobally(module: "cds")
        let source = """
            local ok, e = pcall(cds.find)
            assert(not ok and type(e) == "table" and e.code == "0x80040217" and e.key == "A1")
            error(e)
            """
        XCTAssertThrowsError(try lua.run(source, chunkName: "find.lua")) { error in
            let failure = error as? LuaScriptError
            XCTAssertEqual(failure?.code, "0x80040217")
            XCTAssertEqual(failure?.key, "A1")
            XCTAssertEqual(failure?.message, "record not found")
            XCTAssertEqual(failure?.line, 3)
            XCTAssertNotNil(failure?.traceback)
        }
        XCTAssertThrowsError(try lua.run("\n\nerror({code = 'script.bad', n = 3})", chunkName: "t.lua")) { error in
            let failure = error as? LuaScriptError
            XCTAssertEqual(failure?.code, "script.bad")
            XCTAssertEqual(failure?.fields["n"], "3")
            XCTAssertEqual(failure?.line, 3)
        }
    }

    func testUncaughtSwiftErrorReachesTheHostWithPosition() throws {
        let lua = try LuaState()
        lua.register(module: "cds", name: "boom") { _ in throw LuaError.message("exploded") }
        lua.exposeGlobally(module: "cds")
        XCTAssertThrowsError(try lua.run("local function save() cds.boom() end\nsave()", chunkName: "job.lua")) { error in
            let failure = error as? LuaScriptError
            XCTAssertEqual(failure?.message, "job.lua:1: exploded")
            XCTAssertEqual(failure?.line, 1)
            XCTAssertTrue(failure?.traceback?.contains("job.lua:2") ?? false)
        }
    }

    func testSyntaxAndRuntimeErrorsHaveKindsAndLines() throws {
        let lua = try LuaState()
        XCTAssertThrowsError(try lua.run("local x = \n\n+", chunkName: "bad.lua")) { error in
            XCTAssertEqual((error as? LuaScriptError)?.kind, .syntax)
            XCTAssertEqual((error as? LuaScriptError)?.line, 3)
        }
        XCTAssertThrowsError(try lua.run("local t = nil\nreturn t.x", chunkName: "nil.lua")) { error in
            XCTAssertEqual((error as? LuaScriptError)?.kind, .runtime)
            XCTAssertEqual((error as? LuaScriptError)?.line, 2)
        }
        XCTAssertEqual(try lua.run("return 1", chunkName: "ok.lua"), [1])
    }

    func testBindingCanCallBackIntoLuaAndPropagateItsError() throws {
        let lua = try LuaState()
        lua.register(module: "cds", name: "apply") { ctx in
            ctx.pushCopy(of: 1)
            ctx.pushCopy(of: 2)
            guard ctx.protectedCall(argumentCount: 1, resultCount: 1) else { throw LuaError.propagate }
            return 1
        }
        lua.exposeGlobally(module: "cds")
        XCTAssertEqual(try lua.run("return cds.apply(function(x) return x * 2 end, 21)", chunkName: "a.lua"), [42])
        let source = "local ok, e = pcall(cds.apply, function() error({code = 'inner'}) end, 1)\nreturn e.code"
        XCTAssertEqual(try lua.run(source, chunkName: "b.lua"), ["inner"])
    }
}
