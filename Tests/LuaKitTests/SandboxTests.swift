import Foundation
import LuaKit
import XCTest

final class SandboxTests: XCTestCase {
    func testDangerousLibrariesAreAbsent() throws {
        let lua = try LuaState()
        let results = try lua.run(
            """
            return io == nil, os.execute == nil, os.remove == nil, os.rename == nil, os.exit == nil,
              package.loadlib == nil, dofile == nil, loadfile == nil, debug.getinfo == nil,
              debug.sethook == nil, type(debug.traceback), type(os.time), type(os.getenv),
              type(string.format), type(utf8.char), type(coroutine.wrap), package.loaded.os.execute == nil
            """, chunkName: "absent.lua")
        XCTAssertEqual(results.prefix(10), ArraySlice(Array(repeating: LuaValue.bool(true), count: 10)))
        XCTAssertEqual(results.dropFirst(10), ["function", "function", "function", "function", "function", "function", true])
    }

    func testBytecodeIsRefusedByLoadEvenWhenBinaryModeIsAsked() throws {
        let lua = try LuaState()
        let results = try lua.run(
            """
            local code = string.dump(function() return 1 end)
            local f1, e1 = load(code)
            local f2, e2 = load(code, "x", "b")
            local f3 = load("return 5", "y", "b")
            return f1 == nil, e1, f2 == nil, f3 and f3()
            """, chunkName: "dump.lua")
        XCTAssertEqual(results[0], true)
        XCTAssertTrue(results[1].stringValue?.contains("binary") ?? false, "\(results[1])")
        XCTAssertEqual(results[2], true)
        XCTAssertEqual(results[3], 5)
    }

    func testBytecodeIsRefusedByLoadText() throws {
        let lua = try LuaState()
        let dump = try lua.run("return string.dump(function() return 1 end)", chunkName: "d.lua")
        let code = try XCTUnwrap(dump.first?.stringValue)
        XCTAssertThrowsError(try lua.loadText(code, chunkName: "evil.luac")) { error in
            XCTAssertEqual((error as? LuaScriptError)?.kind, .syntax)
            XCTAssertTrue((error as? LuaScriptError)?.message.contains("binary") ?? false)
        }
    }

    private func makeModuleTree() throws -> URL {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("luakit-\(UUID().uuidString)")
        let modules = root.appendingPathComponent("modules")
        try FileManager.default.createDirectory(
            at: modules.appendingPathComponent("pkg"), withIntermediateDirectories: true)
        try "return {answer = 42}".write(to: modules.appendingPathComponent("mymod.lua"), atomically: true, encoding: .utf8)
        try "return {name = ...}".write(
            to: modules.appendingPathComponent("pkg/util.lua"), atomically: true, encoding: .utf8)
        try "SECRET_LOADED = true return {}".write(
            to: root.appendingPathComponent("secret.lua"), atomically: true, encoding: .utf8)
        return root
    }

    func testRequireLoadsModulesFromSearchDirectoriesOnly() throws {
        let root = try makeModuleTree()
        defer { try? FileManager.default.removeItem(at: root) }
        let lua = try LuaState()
        lua.addModuleSearchPath(root.appendingPathComponent("modules").path)
        let results = try lua.run(
            "return require('mymod').answer, require('pkg.util').name, require('mymod') == require('mymod')",
            chunkName: "req.lua")
        XCTAssertEqual(results, [42, "pkg.util", true])
    }

    /// A module that does not compile fails the script as a syntax error (errors.md:
    /// `script.syntax`, "the script, or a module it requires, does not compile"), naming the
    /// module's file and line; a runtime error inside a module stays a runtime error.
    func testAModuleThatDoesNotCompileIsASyntaxError() throws {
        let root = try makeModuleTree()
        defer { try? FileManager.default.removeItem(at: root) }
        let modules = root.appendingPathComponent("modules")
        try "local x =\n".write(to: modules.appendingPathComponent("broken.lua"), atomically: true, encoding: .utf8)
        try "error('at load')\n".write(to: modules.appendingPathComponent("raising.lua"), atomically: true, encoding: .utf8)
        let lua = try LuaState()
        lua.addModuleSearchPath(modules.path)
        XCTAssertThrowsError(try lua.run("require('broken')", chunkName: "main.lua")) { error in
            let failure = error as? LuaScriptError
            XCTAssertEqual(failure?.kind, .syntax, "\(error)")
            XCTAssertTrue(failure?.message.contains("broken.lua:2:") == true, "\(error)")
        }
        XCTAssertThrowsError(try lua.run("require('raising')", chunkName: "main.lua")) { error in
            XCTAssertEqual((error as? LuaScriptError)?.kind, .runtime, "\(error)")
        }
    }

    func testRequireRefusesPathEscapes() throws {
        let root = try makeModuleTree()
        defer { try? FileManager.default.removeItem(at: root) }
        let lua = try LuaState()
        lua.addModuleSearchPath(root.appendingPathComponent("modules").path)
        let results = try lua.run(
            """
            package.path = "\(root.path)/?.lua"
            local a = pcall(require, "../secret")
            local b = pcall(require, "..secret")
            local c = pcall(require, "secret")
            local d, err = pcall(require, "/etc/passwd")
            local e = pcall(require, "mymod\\0x")  -- mymod exists: a NUL must not cut the name to it
            return a, b, c, d, SECRET_LOADED == nil, e, package.loaded["mymod\\0x"] == nil
            """, chunkName: "escape.lua")
        XCTAssertEqual(results, [false, false, false, false, true, false, true])
    }

    func testLoadStillCompilesTextChunks() throws {
        let lua = try LuaState()
        XCTAssertEqual(try lua.run("return load('return 1 + 1')()", chunkName: "l.lua"), [2])
    }

    func testLoadWithoutAnEnvironmentSeesTheGlobals() throws {
        let lua = try LuaState()
        let results = try lua.run(
            """
            local f = load("return math.pi")
            local g = load("return type(string)", "named")
            return f() == math.pi, g()
            """, chunkName: "globals.lua")
        XCTAssertEqual(results, [true, "table"])
    }

    func testLoadWithAnEnvironmentUsesIt() throws {
        let lua = try LuaState()
        let results = try lua.run(
            """
            local env = {x = 7}
            local f = load("y = x * 2 return x, math", "chunk", "t", env)
            local x, m = f()
            return x, m == nil, env.y, y == nil
            """, chunkName: "env.lua")
        XCTAssertEqual(results, [7, true, 14, true])
    }

    func testLoadWithAnEnvironmentStillRefusesBinaryChunks() throws {
        let lua = try LuaState()
        let results = try lua.run(
            """
            local code = string.dump(function() return 1 end)
            local f, err = load(code, "dumped", "b", {})
            return f == nil, err
            """, chunkName: "binenv.lua")
        XCTAssertEqual(results.first, true)
        XCTAssertTrue(results.last?.stringValue?.contains("binary") ?? false, "\(results)")
    }
}

final class EmbeddedModuleTests: XCTestCase {
    func testPreloadedSourceModulesAreRequiredOnce() throws {
        let lua = try LuaState()
        try lua.registerModule(named: "cds.util", source: "COUNT = (COUNT or 0) + 1 return {name = ...}")
        let results = try lua.run(
            "local a = require('cds.util') local b = require('cds.util') return a.name, a == b, COUNT",
            chunkName: "pre.lua")
        XCTAssertEqual(results, ["cds.util", true, 1])
        XCTAssertThrowsError(try lua.registerModule(named: "broken", source: "return {")) { error in
            XCTAssertEqual((error as? LuaScriptError)?.kind, .syntax)
        }
    }
}
