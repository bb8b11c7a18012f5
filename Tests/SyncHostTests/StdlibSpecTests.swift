import EntityStore
import Foundation
import SyncHost
import XCTest

/// Runs the Lua specs of stdlib/ through the real host, each on a fresh in-memory store.
final class StdlibSpecTests: XCTestCase {
    private func runSpec(_ name: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let stdlib = repositoryRoot.appendingPathComponent("stdlib")
        let source = try String(contentsOf: stdlib.appendingPathComponent("spec/\(name)_spec.lua"), encoding: .utf8)
        let wrapped = "local passed, failed, messages = (function() " + source + "\nend)()\n"
            + "if failed ~= 0 then error(failed .. ' failed:\\n' .. table.concat(messages, '\\n')) end\n"
            + "assert(passed > 0, 'no specs ran')\n"
        let store = try EntityStore(path: nil)
        var options = RunOptions()
        options.modulePaths = [stdlib.path]
        let report = try ScriptHost(service: store, tokens: store, options: options).run(source: wrapped, chunkName: "\(name)_spec.lua")
        XCTAssertEqual(report.outcome, .succeeded, report.error ?? "", file: file, line: line)
    }

    func test_mapSpec() throws { try runSpec("map") }
    func test_mirrorSpec() throws { try runSpec("mirror") }
    func test_prettySpec() throws { try runSpec("pretty") }
    func test_retrySpec() throws { try runSpec("retry") }
}

/// Errors raised inside stdlib modules point at the script line that called them.
final class StdlibErrorLocationTests: XCTestCase {
    func test_mirrorRefusalNamesTheScriptLine() throws {
        let store = try EntityStore(path: nil)
        let options = stdlibOptions()
        let report = try ScriptHost(service: store, tokens: store, options: options).run(source: """
            local mirror = require("cdsync.mirror")

            mirror.sync("account", { key = "accountnumber", source = {}, action = "delete" })
            """, chunkName: "job.lua")
        XCTAssertEqual(report.errorCode, "mirror.empty_source")
        XCTAssertTrue(report.error?.hasPrefix("job.lua:3: ") ?? false, report.error ?? "")
    }
}
