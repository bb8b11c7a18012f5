import EntityModel
import EntityStore
import Foundation
import XCTest

/// `cdsync run` and `cdsync tokens` through the real binary.
final class RunCommandTests: XCTestCase {
    private func exampleStore() throws -> URL {
        let directory = try temporaryDirectory()
        let schema = CLIRunner.root.appendingPathComponent("examples/erp/schema.yaml").path
        XCTAssertEqual(try CLIRunner.run(["schema", "apply", schema, "--db", "erp.db"], in: directory).status, 0)
        let data = directory.appendingPathComponent("data")
        try FileManager.default.copyItem(at: CLIRunner.root.appendingPathComponent("examples/erp/data"), to: data)
        return directory
    }

    private func runExample(_ directory: URL) throws -> CLIRunner.Result {
        let script = CLIRunner.root.appendingPathComponent("examples/erp/sync.lua").path
        return try CLIRunner.run(["run", script, "--db", "erp.db", "--json", "--", "data", "changes.jsonl"], in: directory)
    }

    private func summary(_ result: CLIRunner.Result) throws -> [String: Any] {
        let line = result.stdout.split(separator: "\n").last.map(String.init) ?? ""
        return try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], result.stdout + result.stderr)
    }

    func test_exampleRunsTwiceAndTheSecondRunIsUnchanged() throws {
        let directory = try exampleStore()
        let first = try runExample(directory)
        XCTAssertEqual(first.status, 0, first.stderr)
        let firstSummary = try summary(first)
        XCTAssertEqual(firstSummary["created"] as? Int, 16)
        XCTAssertEqual(firstSummary["tokens_advanced"] as? [String], ["to-warehouse"])
        let changes = try String(contentsOf: directory.appendingPathComponent("changes.jsonl"), encoding: .utf8)
        XCTAssertEqual(changes.split(separator: "\n").count, 6)
        XCTAssertTrue(changes.contains("\"name\":\"The \\\"Best\\\" Pharma of Łódź\""), changes)
        XCTAssertTrue(changes.contains("\"owner_domainname\":\"carol@contoso.test\""), changes)

        let second = try runExample(directory)
        let secondSummary = try summary(second)
        XCTAssertEqual(secondSummary["unchanged"] as? Int, 16)
        XCTAssertEqual(secondSummary["created"] as? Int, 0)
        XCTAssertEqual(secondSummary["updated"] as? Int, 0)
        XCTAssertEqual(try String(contentsOf: directory.appendingPathComponent("changes.jsonl"), encoding: .utf8), "")
    }

    func test_editedRowsShowUpAsExactlyThoseChanges() throws {
        let directory = try exampleStore()
        XCTAssertEqual(try runExample(directory).status, 0)
        let accounts = directory.appendingPathComponent("data/accounts.csv")
        var text = try String(contentsOf: accounts, encoding: .utf8)
        text = text.replacingOccurrences(of: "Northwind Traders,NW", with: "Northwind Traders Ltd,NW")
        text = text.replacingOccurrences(of: "jo.smith@fabrikam.test,active", with: "jo.smith@fabrikam.test,inactive")
        try text.write(to: accounts, atomically: true, encoding: .utf8)
        let result = try runExample(directory)
        XCTAssertEqual(try summary(result)["updated"] as? Int, 2)
        let changes = try String(contentsOf: directory.appendingPathComponent("changes.jsonl"), encoding: .utf8)
        let numbers = changes.split(separator: "\n").compactMap { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["accountnumber"] as? String
        }
        XCTAssertEqual(Set(numbers), ["AC0000004", "AC0000005"])
    }

    /// A full disk (here a file size limit) that makes a group of writes roll back: the
    /// summary counts only the writes the store kept, and the error is given once.
    func test_writesRolledBackOnAFullDiskAreNotCountedAsWritten() throws {
        let directory = try temporaryDirectory()
        XCTAssertEqual(try CLIRunner.run(["schema", "show", "--db", "store.db"], in: directory).status, 0)
        try """
            for i = 1, 200000 do
              cds.upsert("account", { accountnumber = string.format("A%07d", i) }, { name = string.rep("n", 100) .. i })
            end
            """.write(to: directory.appendingPathComponent("load.lua"), atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        // 20 MB: the first groups of writes fit, a later one does not
        process.arguments = ["-c", "ulimit -f 20000; exec \"$0\" run load.lua --db store.db --json", try CLIRunner.binary().path]
        process.currentDirectoryURL = directory
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 75, stderr)
        XCTAssertEqual(stderr.components(separatedBy: "so they were rolled back").count - 1, 1, stderr)
        let report = try summary(CLIRunner.Result(status: process.terminationStatus, stdout: stdout, stderr: stderr))
        let created = try XCTUnwrap(report["created"] as? Int, stdout)
        let kept = try EntityStore(path: directory.appendingPathComponent("store.db").path).count("account")
        XCTAssertEqual(created, kept, stdout)
        XCTAssertGreaterThan(kept, 0, "the groups committed before the disk filled stay written")
        XCTAssertLessThan(kept, 200000)
    }

    func test_scriptErrorPrintsScriptLineAndExits1() throws {
        let directory = try temporaryDirectory()
        try "cds.upsert('account', { accountnumber = 'A' }, { name = 'a' })\ncds.upsert('account', { accountnumber = 'B' }, { nosuch = 1 })\n"
            .write(to: directory.appendingPathComponent("bad.lua"), atomically: true, encoding: .utf8)
        let result = try CLIRunner.run(["run", "bad.lua", "--db", "store.db"], in: directory)
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.stderr.contains("bad.lua:2: An error occurred while validating input parameters: Invalid property 'nosuch'"), result.stderr)
        XCTAssertTrue(result.stderr.contains("[0x0] (key: accountnumber='B')"), result.stderr)
    }

    /// A library call that never returns (a backtracking string pattern) cannot be interrupted
    /// between Lua instructions: the run still ends a few seconds after its `--timeout`, or
    /// after SIGTERM, with the matching error and exit code, instead of running on for hours.
    func test_aScriptStuckInALibraryCallIsStoppedAfterItsTimeoutOrASignal() throws {
        let directory = try temporaryDirectory()
        let script = directory.appendingPathComponent("stuck.lua")
        try #"print(("a"):rep(5000):find(".-.-.-b"))"#.write(to: script, atomically: true, encoding: .utf8)
        var start = Date()
        let timedOut = try CLIRunner.run(["run", script.path, "--db", "s.db", "--timeout", "1"], in: directory)
        XCTAssertEqual(timedOut.status, 1, timedOut.stderr)
        XCTAssertTrue(timedOut.stderr.contains("[script.timeout]") && timedOut.stderr.contains("stuck.lua"), timedOut.stderr)
        XCTAssertLessThan(Date().timeIntervalSince(start), 30)
        let process = try CLIRunner.start(["run", script.path, "--db", "s.db"], in: directory)
        defer { CLIRunner.stop(process) }
        Thread.sleep(forTimeInterval: 1)
        start = Date()
        kill(process.processIdentifier, SIGTERM)
        let stderr = (process.standardError as! Pipe).fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 75)
        XCTAssertTrue(String(decoding: stderr, as: UTF8.self).contains("[script.interrupted]"), String(decoding: stderr, as: UTF8.self))
        XCTAssertLessThan(Date().timeIntervalSince(start), 30)
    }

    func test_usageErrorsExit64() throws {
        let directory = try temporaryDirectory()
        XCTAssertEqual(try CLIRunner.run(["run", "missing.lua"], in: directory).status, 64)
        try "".write(to: directory.appendingPathComponent("empty.lua"), atomically: true, encoding: .utf8)
        XCTAssertEqual(try CLIRunner.run(["run", "empty.lua", "--on-error", "sometimes"], in: directory).status, 64)
        XCTAssertEqual(try CLIRunner.run(["run", "empty.lua", "--batch-size", "5000"], in: directory).status, 64)
        // an empty store name (--db "$DB" with DB unset) opened a throwaway database and lost the writes
        try #"cds.upsert("account", { accountnumber = "A1" }, { name = "n" })"#.write(
            to: directory.appendingPathComponent("write.lua"), atomically: true, encoding: .utf8)
        for arguments in [["run", "write.lua", "--db", ""], ["schema", "apply", "write.lua", "--db", ""], ["runs", "--db", ""]] {
            let result = try CLIRunner.run(arguments, in: directory)
            XCTAssertEqual(result.status, 64, "\(arguments): \(result.stderr)")
            XCTAssertTrue(result.stderr.contains("--db needs a store file name"), result.stderr)
        }
        // a rejects file that cannot be created is a wrong argument, found before the run
        for (rejects, message) in [(".", "is a directory"), ("nowhere/rejects.csv", "the directory nowhere does not exist")] {
            let result = try CLIRunner.run(["run", "write.lua", "--db", "s.db", "--on-error", "continue", "--rejects", rejects], in: directory)
            XCTAssertEqual(result.status, 64, result.stderr)
            XCTAssertTrue(result.stderr.contains(message), result.stderr)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory.appendingPathComponent("s.db").path), "no run started")
        // a URL is not a store file, for every command (they opened it as a file name)
        for arguments in [["run", "write.lua"], ["runs"], ["tokens", "list"], ["schema", "show"], ["repl"]] {
            let result = try CLIRunner.run(arguments + ["--db", "https://example.test/"], in: directory)
            XCTAssertEqual(result.status, 64, "\(arguments): \(result.stderr)")
            XCTAssertTrue(result.stderr.contains("--db takes a store file"), result.stderr)
        }
        // a negative number is a value out of range, not a missing one
        for (arguments, message) in [(["runs", "--limit", "-1"], "--limit must be 1 to 100000"), (["run", "write.lua", "--timeout", "-1"], "--timeout must be 0")] {
            let result = try CLIRunner.run(arguments + ["--db", "s.db"], in: directory)
            XCTAssertEqual(result.status, 64, result.stderr)
            XCTAssertTrue(result.stderr.contains(message), result.stderr)
        }
        // a script read from a pipe runs (it has no size to read up to)
        let piped = try CLIRunner.shell(#"echo 'print("from a pipe")' | "$0" run /dev/stdin --db s.db --quiet"#, in: directory)
        XCTAssertEqual(piped.status, 0, piped.stderr)
        XCTAssertTrue(piped.stdout.hasPrefix("from a pipe"), piped.stdout)
        // a directory is not a script
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("dir.lua"), withIntermediateDirectories: true)
        let directoryScript = try CLIRunner.run(["run", "dir.lua", "--db", "s.db"], in: directory)
        XCTAssertEqual(directoryScript.status, 64)
        XCTAssertTrue(directoryScript.stderr.contains("cannot read the script dir.lua: it is a directory"), directoryScript.stderr)
        // an argument that is not UTF-8 would name another file once repaired: refused
        let latin = try CLIRunner.shell(#""$0" runs --db "$(printf 'caf\351.db')""#, in: directory)
        XCTAssertEqual(latin.status, 64)
        XCTAssertTrue(latin.stderr.contains("argument 3 is not UTF-8 text"), latin.stderr)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasPrefix("caf") }, [], "no store was made")
    }

    func test_tokensListShowAndReset() throws {
        let directory = try exampleStore()
        XCTAssertEqual(try runExample(directory).status, 0)
        let list = try CLIRunner.run(["tokens", "list", "--db", "erp.db"], in: directory)
        XCTAssertTrue(list.stdout.contains("to-warehouse  account"), list.stdout)
        let show = try CLIRunner.run(["tokens", "show", "to-warehouse", "--db", "erp.db"], in: directory)
        XCTAssertTrue(show.stdout.contains("entity:  account"), show.stdout)
        XCTAssertEqual(try CLIRunner.run(["tokens", "reset", "to-warehouse", "--db", "erp.db"], in: directory).status, 0)
        XCTAssertEqual(try CLIRunner.run(["tokens", "show", "to-warehouse", "--db", "erp.db"], in: directory).status, 1)
        let again = try runExample(directory)
        XCTAssertEqual(try String(contentsOf: directory.appendingPathComponent("changes.jsonl"), encoding: .utf8).split(separator: "\n").count, 6,
                       "after a reset the next run is a full sync: \(again.stderr)")
    }

    /// A script's writers refuse the store's own files and the rejects file, however the path
    /// names them (relative, through `..`, a symbolic or a hard link): opening one would
    /// truncate the store under the run. Other files are written as ever.
    func test_writersRefuseTheStoreItsLogAndTheRejectsFile() throws {
        let directory = try exampleStore()
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("sub"), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: directory.appendingPathComponent("link.db").path, withDestinationPath: "erp.db")
        try FileManager.default.linkItem(atPath: directory.appendingPathComponent("erp.db").path, toPath: directory.appendingPathComponent("hard.db").path)
        try """
            cds.create("account", { accountnumber = "W1", name = "kept" })
            cds.flush()
            for _, path in ipairs({ "erp.db", "./sub/../erp.db", "erp.db-wal", "erp.db-shm", "link.db", "hard.db", "rejects.jsonl" }) do
              local ok, err = pcall(json.writer, path)
              assert(not ok and err.code == "file.protected", path .. ": " .. tostring(err))
              ok, err = pcall(csv.writer, path, { "a" })
              assert(not ok and err.code == "file.protected" and err.message:find(path, 1, true), path .. ": " .. tostring(err))
            end
            local w = csv.writer("fine.csv", { "a" }); w:write({ a = 1 }); w:close()
            cds.create("account", { accountnumber = "W2", name = "kept" })
            """.write(to: directory.appendingPathComponent("w.lua"), atomically: true, encoding: .utf8)
        let result = try CLIRunner.run(["run", "w.lua", "--db", "erp.db", "--rejects", "rejects.jsonl", "--quiet"], in: directory)
        XCTAssertEqual(result.status, 0, result.stderr)
        // through a link, the log files of the file it points at are the store's too
        try #"for _, p in ipairs({ "erp.db-wal", "erp.db-shm", "link.db-wal" }) do assert(not pcall(json.writer, p), p) end"#
            .write(to: directory.appendingPathComponent("l.lua"), atomically: true, encoding: .utf8)
        let linked = try CLIRunner.run(["run", "l.lua", "--db", "link.db", "--quiet"], in: directory)
        XCTAssertEqual(linked.status, 0, linked.stderr)
        XCTAssertEqual(try String(contentsOf: directory.appendingPathComponent("fine.csv"), encoding: .utf8), "a\r\n1\r\n")
        let store = try EntityStore(path: directory.appendingPathComponent("erp.db").path)
        for number in ["W1", "W2"] {
            XCTAssertEqual(try store.retrieve(EntityReference("account", key: "accountnumber", value: .string(number)), columns: ["name"]).fields["name"], .string("kept"), number)
        }
    }

    /// A run that writes without pause (a batch per row, groups committed each second) leaves
    /// the store's write lock free between groups long enough for another run to write: the
    /// other run succeeds while the long one goes on, instead of failing after its busy timeout.
    func test_anotherRunWritesWhileALongRunKeepsWriting() throws {
        let directory = try exampleStore()
        var rows = "number,name\n"
        for index in 0..<200_000 { rows += "B\(index),A\(index)\n" }
        try rows.write(to: directory.appendingPathComponent("many.csv"), atomically: true, encoding: .utf8)
        try """
            for row in csv.rows(arg[1]) do
              local r = cds.upsert("account", { accountnumber = row.number }, { name = row.name })
              assert(r.error == nil)  -- reading the result sends a batch for every row
            end
            """.write(to: directory.appendingPathComponent("long.lua"), atomically: true, encoding: .utf8)
        try #"cds.upsert("account", { accountnumber = arg[1] }, { name = "short" })"#
            .write(to: directory.appendingPathComponent("short.lua"), atomically: true, encoding: .utf8)
        let long = Process()
        long.executableURL = try CLIRunner.binary()
        long.arguments = ["run", "long.lua", "--db", "erp.db", "--quiet", "--", "many.csv"]
        long.currentDirectoryURL = directory
        long.standardOutput = FileHandle.nullDevice
        long.standardError = FileHandle.nullDevice
        try long.run()
        defer { if long.isRunning { long.terminate() } }
        Thread.sleep(forTimeInterval: 2)
        for number in ["S1", "S2"] {
            let short = try CLIRunner.run(["run", "short.lua", "--db", "erp.db", "--quiet", "--", number], in: directory)
            XCTAssertEqual(short.status, 0, short.stderr)
        }
        XCTAssertTrue(long.isRunning, "the long run must still be writing for the test to show anything; give it more rows")
        long.terminate()
        long.waitUntilExit()
    }
}
