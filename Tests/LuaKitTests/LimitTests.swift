import Dispatch
import LuaKit
import XCTest

final class LimitTests: XCTestCase {
    private func expectFailure(_ lua: LuaState, _ source: String, kind: LuaScriptError.Kind,
                               within seconds: Double, file: StaticString = #filePath, line: UInt = #line) {
        let start = DispatchTime.now()
        XCTAssertThrowsError(try lua.run(source, chunkName: "limit.lua"), file: file, line: line) { error in
            XCTAssertEqual((error as? LuaScriptError)?.kind, kind, "\(error)", file: file, line: line)
        }
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
        XCTAssertLessThan(elapsed, seconds, file: file, line: line)
    }

    func testRunawayAllocationStopsWithMemoryKindAndStateStaysUsable() throws {
        let lua = try LuaState()
        lua.setMemoryLimit(bytes: 8 << 20)
        expectFailure(lua, "t = {} for i = 1, 1e9 do t[i] = ('x'):rep(100) end", kind: .memory, within: 10)
        XCTAssertEqual(try lua.run("t = nil collectgarbage() return 1 + 1", chunkName: "after.lua"), [2])
        lua.collectGarbage()
        XCTAssertLessThan(lua.memoryInUse, 8 << 20)
        XCTAssertGreaterThanOrEqual(lua.peakMemory, 7 << 20)
    }

    func testPcallCannotSwallowTheMemoryLimit() throws {
        let lua = try LuaState()
        lua.setMemoryLimit(bytes: 8 << 20)
        let source = """
            while true do
              pcall(function() local t = {} for i = 1, 1e9 do t[i] = ('x'):rep(100) end end)
            end
            """
        expectFailure(lua, source, kind: .memory, within: 10)
        XCTAssertEqual(try lua.run("return 'alive'", chunkName: "after.lua"), ["alive"])
    }

    func testInfiniteLoopTimesOut() throws {
        let lua = try LuaState()
        lua.setTimeout(seconds: 0.5)
        expectFailure(lua, "while true do end", kind: .timeout, within: 2)
        XCTAssertEqual(try lua.run("return 3", chunkName: "after.lua"), [3])
    }

    func testPcallCannotSwallowTheTimeout() throws {
        let lua = try LuaState()
        lua.setTimeout(seconds: 0.5)
        expectFailure(lua, "while true do pcall(function() while true do end end) end", kind: .timeout, within: 2)
        expectFailure(lua, "while true do pcall(error, 'x') end", kind: .timeout, within: 2)
    }

    func testInterruptHandleStopsALoopFromAnotherThread() throws {
        let lua = try LuaState()
        let handle = lua.interruptHandle
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.2) { handle.interrupt() }
        expectFailure(lua, "local n = 0 while true do n = n + 1 end", kind: .interrupted, within: 5)
        XCTAssertEqual(try lua.run("return 4", chunkName: "after.lua"), [4])
    }

    func testProcessWideInterruptRequestStopsScriptsUntilCleared() throws {
        let lua = try LuaState()
        LuaInterrupts.requestAll()
        defer { LuaInterrupts.clear() }
        XCTAssertTrue(LuaInterrupts.isRequested)
        expectFailure(lua, "while true do end", kind: .interrupted, within: 5)
        LuaInterrupts.clear()
        XCTAssertEqual(try lua.run("for i = 1, 1e5 do end return 5", chunkName: "after.lua"), [5])
    }
}
