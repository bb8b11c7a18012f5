import EntityModel
import EntityStore
import Foundation
import SyncHost
import XCTest

/// CSV and JSON modules, malformed rows, and the memory and time limits.
final class FileAndLimitTests: XCTestCase {
    private func writeCSV(_ text: String) throws -> String {
        let path = try temporaryDirectory().appendingPathComponent("accounts.csv").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    private let load = """
        for row in csv.rows(arg[1]) do
          cds.upsert("account", { accountnumber = row.number }, { name = row.name })
        end
        """

    func test_csvRowsWithQuotesNewlinesAndUTF8Load() throws {
        let store = try makeStore()
        var options = RunOptions()
        options.arguments = [try writeCSV("number,name\r\nA1,\"Smith, Jr.\"\r\nA2,\"Robert \"\"Bob\"\"\nline two\"\r\nA3,Dvořák\r\n")]
        try runScript(load, store: store, options: options)
        let name = { (number: String) in try store.retrieve(EntityReference("account", keys: ["accountnumber": .string(number)]), columns: ["name"])["name"] }
        XCTAssertEqual(try name("A1"), .string("Smith, Jr."))
        XCTAssertEqual(try name("A2"), .string("Robert \"Bob\"\nline two"))
        XCTAssertEqual(try name("A3"), .string("Dvořák"))
    }

    func test_malformedRowStopsWithItsLineByDefault() throws {
        let store = try makeStore()
        var options = RunOptions()
        options.arguments = [try writeCSV("number,name\nA1,ok\nA2,too,many\nA3,ok\n")]
        let report = try runScript(load, store: store, options: options, expectSuccess: false)
        XCTAssertEqual(report.errorCode, "csv.malformed")
        XCTAssertTrue(report.error?.contains("accounts.csv:3:") ?? false, report.error ?? "")
    }

    func test_malformedRowIsRejectedAndTheRestLoadsWithContinue() throws {
        let store = try makeStore()
        var options = RunOptions()
        options.onError = .continue
        let directory = try temporaryDirectory()
        options.rejectsPath = directory.appendingPathComponent("rejects.jsonl").path
        options.arguments = [try writeCSV("number,name\nA1,ok\nA2,too,many\nA3,ok\n")]
        let report = try runScript(load, store: store, options: options, expectSuccess: false)
        XCTAssertEqual(report.outcome, .rowsRejected)
        XCTAssertEqual(report.counters.created, 2)
        let rejects = try String(contentsOfFile: options.rejectsPath!, encoding: .utf8)
        XCTAssertTrue(rejects.contains("\"source\":\"accounts.csv:3\""), rejects)
        XCTAssertTrue(rejects.contains("\"code\":\"csv.malformed\""), rejects)
    }

    /// A loop nested in another gives the outer loop's row back as the source when it ends:
    /// a reject after the inner loop names the outer file's line (it named none).
    func test_aRejectAfterANestedLoopNamesTheOuterRow() throws {
        let store = try makeStore()
        var options = RunOptions()
        options.onError = .continue
        let directory = try temporaryDirectory()
        options.rejectsPath = directory.appendingPathComponent("rejects.jsonl").path
        let outer = try writeCSV("number,name\nA1,ok\nA2,bad\n")
        let inner = directory.appendingPathComponent("inner.csv").path
        try "code\nx\ny\n".write(toFile: inner, atomically: true, encoding: .utf8)
        options.arguments = [outer, inner]
        let report = try runScript("""
            for row in csv.rows(arg[1]) do
              for other in csv.rows(arg[2]) do end
              for other in csv.rows(arg[2]) do break end
              cds.upsert("account", { accountnumber = row.number }, { name = row.name == "bad" and 5 or row.name })
            end
            """, store: store, options: options, expectSuccess: false)
        XCTAssertEqual(report.outcome, .rowsRejected)
        let rejects = try String(contentsOfFile: options.rejectsPath!, encoding: .utf8)
        XCTAssertTrue(rejects.contains("\"source\":\"accounts.csv:3\""), rejects)
        // a loop an error left (caught) is no outer loop of the next one: after that one ends,
        // a reject names no row rather than the stale one
        try "".write(toFile: options.rejectsPath!, atomically: true, encoding: .utf8)
        _ = try runScript("""
            pcall(function() for row in csv.rows(arg[1]) do error("x") end end)
            for other in csv.rows(arg[2]) do end
            cds.upsert("account", { accountnumber = "S1" }, { name = 5 })
            """, store: store, options: options, expectSuccess: false)
        let second = try String(contentsOfFile: options.rejectsPath!, encoding: .utf8)
        XCTAssertFalse(second.contains("accounts.csv"), second)
        XCTAssertTrue(second.contains("S1"), second)
    }

    /// Rejects that cannot be written (a full disk) fail the run: it used to report the rows
    /// as rejected into a file that never got them.
    func test_rejectsThatCannotBeWrittenFailTheRun() throws {
        let store = try makeStore()
        var options = RunOptions()
        options.onError = .continue
        options.rejectsPath = "/dev/full"
        options.arguments = [try writeCSV("number,name\nA/1,bad key\nA2,ok\nA3,too,many\n")]
        let report = try runScript(load, store: store, options: options, expectSuccess: false)
        XCTAssertEqual(report.outcome, .failed)
        XCTAssertEqual(report.errorCode, "file.write_failed")
        XCTAssertTrue(report.error?.contains("/dev/full") ?? false, report.error ?? "")
    }

    /// A script that reads the result of a write its batch never sent (an earlier record of the
    /// batch failed under stop) fails on that earlier record: its key, source line and code,
    /// not only "not sent".
    func test_readingAnUnsentResultReportsTheRecordThatFailed() throws {
        let store = try makeStore()
        var options = RunOptions()
        options.arguments = [try writeCSV("number,name\nA1,one\nA/2,bad\nA3,three\n")]
        let report = try runScript("""
            local last
            for row in csv.rows(arg[1]) do
              last = cds.upsert("account", { accountnumber = row.number }, { name = row.name })
            end
            print(last.changed)
            """, store: store, options: options, expectSuccess: false)
        XCTAssertEqual(report.errorCode, "0x80060888")
        XCTAssertTrue(report.error?.hasPrefix("job.lua:3: The key value 'A/2'") == true, report.error ?? "")
        XCTAssertTrue(report.error?.contains("(source: accounts.csv:3)") == true, report.error ?? "")
        XCTAssertTrue(report.error?.contains("job.lua:5: Not sent") == true, report.error ?? "")
    }

    /// An error raised while a csv.rows loop reads a row (a bad value for cds.decimal) names
    /// that row; after a loop that broke off, an error names no row.
    func test_anErrorInsideARowLoopNamesTheRowBeingRead() throws {
        let store = try makeStore()
        var options = RunOptions()
        options.arguments = [try writeCSV("number,revenue\nA1,1.5\nA2,\"1,5\"\n")]
        let inside = try runScript("""
            for row in csv.rows(arg[1]) do
              cds.upsert("account", { accountnumber = row.number }, { revenue = cds.decimal(row.revenue) })
            end
            """, store: store, options: options, expectSuccess: false)
        XCTAssertTrue(inside.error?.contains("'1,5' is not a decimal number") == true, inside.error ?? "")
        XCTAssertTrue(inside.error?.hasSuffix("(source: accounts.csv:3)") == true, inside.error ?? "")
        let after = try runScript("""
            for row in csv.rows(arg[1]) do break end
            cds.decimal("1,5")
            """, store: store, options: options, expectSuccess: false)
        XCTAssertFalse(after.error?.contains("source") ?? true, after.error ?? "")
    }

    /// A script saved with a byte order mark (as some Windows editors save UTF-8) runs; the
    /// mark is not Lua, and failed at line 1 as a syntax error.
    func test_aScriptWithAByteOrderMarkRuns() throws {
        let store = try makeStore()
        let path = try temporaryDirectory().appendingPathComponent("bom.lua")
        try Data([0xEF, 0xBB, 0xBF] + Array(#"cds.upsert("account", { accountnumber = "BOM" }, { name = "ok" })"#.utf8)).write(to: path)
        let report = try ScriptHost(service: store, tokens: store, options: RunOptions()).run(scriptPath: path.path)
        XCTAssertEqual(report.outcome, .succeeded, report.error ?? "")
        XCTAssertEqual(try store.count("account"), 1)
    }

    /// The rejects file failing mid-run (a full disk) fails the run with `file.write_failed`,
    /// as a writer's failure does (it was reported as `script.runtime`).
    func test_aRejectsFileThatCannotBeWrittenIsFileWriteFailed() throws {
        try XCTSkipUnless(FileManager.default.isWritableFile(atPath: "/dev/full"), "needs /dev/full (Linux)")
        let store = try makeStore()
        var options = RunOptions()
        options.onError = .continue
        options.rejectsPath = "/dev/full"
        let report = try runScript("""
            for i = 1, 20000 do
              cds.upsert("account", { accountnumber = ("R%05d"):format(i) }, { name = string.rep("x", 200) })
            end
            """, store: store, options: options, expectSuccess: false)
        XCTAssertEqual(report.errorCode, "file.write_failed", report.error ?? "")
    }

    /// A writer's failures carry their codes for `pcall`: a full disk mid-file is
    /// `file.write_failed` (as closing reports it), writing after `close` `file.writer_closed`.
    func test_writerFailuresCarryTheirCodes() throws {
        let store = try makeStore()
        var options = RunOptions()
        options.arguments = [try temporaryDirectory().appendingPathComponent("out.csv").path]
        let report = try runScript("""
            local out = json.writer("/dev/full")
            local ok, err = pcall(function() for i = 1, 200000 do out:write({ i = i, s = "xxxxxxxxxxxxxxxxxxxx" }) end end)
            assert(not ok and err.code == "file.write_failed", tostring(err))
            local w = csv.writer(arg[1], { "a" }); w:close()
            ok, err = pcall(w.write, w, { a = 1 })
            assert(not ok and err.code == "file.writer_closed", tostring(err))
            """, store: store, options: options, expectSuccess: false)
        // the writer left open on the full disk still fails the run at its end
        XCTAssertEqual(report.errorCode, "file.write_failed", report.error ?? "")
    }

    /// An empty file has no header: `csv.rows` and `csv.keys` say so alike (`csv.keys` called
    /// it a malformed line 1).
    func test_anEmptyFileIsMissingItsHeaderForRowsAndKeysAlike() throws {
        let store = try makeStore()
        var options = RunOptions()
        options.arguments = [try writeCSV("")]
        try runScript("""
            local ok, err = pcall(function() for row in csv.rows(arg[1]) do end end)
            assert(not ok and err.code == "csv.missing_header", tostring(err and err.code))
            ok, err = pcall(csv.keys, arg[1], "number")
            assert(not ok and err.code == "csv.missing_header", tostring(err and err.code))
            """, store: store, options: options)
    }

    func test_csvKeysReadsOneColumnAsACaseInsensitiveKeySet() throws {
        let store = try makeStore()
        var options = RunOptions()
        options.arguments = [try writeCSV("number,name\nA1,one\na2,two\n42,\"x, y\"\nA1,again\n")]
        try runScript("""
            local keys = csv.keys(arg[1], "number")
            assert(keys:count() == 3, "count " .. keys:count())
            assert(keys:has("a1") and keys:has("A2") and keys:has(42) and keys:has("42"))
            assert(not keys:has("A3") and not keys:has(nil) and not keys:has(cds.null))
            assert(keys:add("A3") == true and keys:add("a3") == false and keys:count() == 4)
            assert(keys:add(cds.decimal("1.50")) == true and keys:has("1.50"))
            """, store: store, options: options)
    }

    func test_csvKeysOfAFileLongerThanOneChunkHoldsEveryKeyOnce() throws {
        let store = try makeStore()
        var options = RunOptions()
        // 20,000 rows (several chunks of 8192 keys), every key twice in two spellings, a bad row last
        var text = "number,name\n"
        for index in 0..<20_000 { text += "K\(index),a\nk\(index),b\n" }
        options.arguments = [try writeCSV(text)]
        try runScript("""
            local keys = csv.keys(arg[1], "number")
            assert(keys:count() == 20000, "count " .. keys:count())
            assert(keys:has("k0") and keys:has("K8191") and keys:has("k8192") and keys:has("K19999"))
            assert(not keys:has("k20000"))
            """, store: store, options: options)
        options.arguments = [try writeCSV(text + "K1,too,many\n")]
        let malformed = try runScript("csv.keys(arg[1], 'number')", store: store, options: options, expectSuccess: false)
        XCTAssertEqual(malformed.errorCode, "csv.malformed")
        XCTAssertTrue(malformed.error?.contains("accounts.csv:40002:") ?? false, malformed.error ?? "")
    }

    func test_csvKeysRefusesAMissingColumnAndAMalformedRowEvenUnderContinue() throws {
        let store = try makeStore()
        var options = RunOptions()
        options.onError = .continue
        options.arguments = [try writeCSV("number,name\nA1,ok\nA2,too,many\n")]
        let malformed = try runScript("csv.keys(arg[1], 'number')", store: store, options: options, expectSuccess: false)
        XCTAssertEqual(malformed.errorCode, "csv.malformed")
        XCTAssertTrue(malformed.error?.contains("accounts.csv:3:") ?? false, malformed.error ?? "")
        options.arguments = [try writeCSV("number,name\nA1,ok\n")]
        let missing = try runScript("csv.keys(arg[1], 'accountnumber')", store: store, options: options, expectSuccess: false)
        XCTAssertEqual(missing.errorCode, "csv.malformed")
        XCTAssertTrue(missing.error?.contains("no column 'accountnumber'") ?? false, missing.error ?? "")
    }

    func test_mirrorWithCsvKeysDeletesOnlyTheRecordsTheFileNoLongerHas() throws {
        let store = try makeStore()
        var options = stdlibOptions()
        options.arguments = [try writeCSV("number,name\nm1,one\nM2,two\nM4,four\n")]
        try runScript("""
            for i = 1, 5 do cds.upsert("account", { accountnumber = "M" .. i }, { name = "n" }) end
            local result = require("cdsync.mirror").sync("account", {
              key = "accountnumber", source = csv.keys(arg[1], "number"), action = "delete", max_deletes = 2 })
            assert(result.deleted == 2 and result.considered == 5, result.deleted .. " " .. result.considered)
            """, store: store, options: options)
        let left = try store.runQuery(Query(entity: "account", columns: ["accountnumber"])).records
            .compactMap { record -> String? in if case .string(let number)? = record.fields["accountnumber"] { return number } else { return nil } }
        XCTAssertEqual(left.sorted(), ["M1", "M2", "M4"])
    }

    func test_cdsMissingComparesInTheStoreWithFilterSelectAndUnkeyedRows() throws {
        let store = try makeStore()
        try runScript("""
            for i = 1, 6 do cds.upsert("account", { accountnumber = "K" .. i }, { name = i <= 3 and "keep" or "other" }) end
            cds.create("account", { name = "keep" })  -- no key: counted, never missing
            local keys = cds.key_set()
            keys:add("k1"); keys:add("K4"); keys:add("not-stored")
            local found = cds.missing("account", keys, { key = "accountnumber", filter = "name eq 'keep'", select = { "statecode", "name" } })
            assert(found.considered == 4 and found.unkeyed == 1, found.considered .. " " .. found.unkeyed)
            assert(#found.missing == 2, "missing " .. #found.missing)
            local first, second = found.missing[1], found.missing[2]
            assert(first.key == "K2" and second.key == "K3", tostring(first.key) .. " " .. tostring(second.key))
            assert(first.statecode == 0 and first.name == "keep" and #first.id == 36)
            local all = cds.missing("account", keys, { key = "accountnumber" })
            assert(all.considered == 7 and all.unkeyed == 1 and #all.missing == 4, all.considered .. " " .. #all.missing)
            assert(all.missing[1].name == nil, "only the key and id unless select asks")
            """, store: store, options: RunOptions())
    }

    func test_jsonWriterAndReaderRoundTripExactDecimals() throws {
        let store = try makeStore()
        let path = try temporaryDirectory().appendingPathComponent("out.jsonl").path
        var options = RunOptions()
        options.arguments = [path]
        try runScript("""
            local out = json.writer(arg[1])
            out:write({ id = 1, amount = cds.decimal("12345678901234.5678"), name = "Łódź", tags = { "a", "b" } })
            out:close()
            for value in json.lines(arg[1]) do
              assert(tostring(value.amount) == "12345678901234.5678", tostring(value.amount))
              assert(value.id == 1 and value.name == "Łódź" and value.tags[2] == "b")
            end
            assert(json.decode(json.encode({ x = { 1, 2 } })).x[2] == 2)
            """, store: store, options: options)
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8),
                       "{\"amount\":12345678901234.5678,\"id\":1,\"name\":\"Łódź\",\"tags\":[\"a\",\"b\"]}\n")
    }

    /// A writer sorts each object's keys once per shape and reuses that order while the keys
    /// come in the same order: every line is still in key order when the keys, their order in
    /// the table, or their number change between lines, and nested objects are sorted too;
    /// remembered keys that need escaping are written escaped.
    func test_jsonWriterKeepsKeyOrderWhenShapesChangeBetweenLines() throws {
        let store = try makeStore()
        let path = try temporaryDirectory().appendingPathComponent("shapes.jsonl").path
        var options = RunOptions()
        options.arguments = [path]
        try runScript("""
            local out = json.writer(arg[1])
            for i = 1, 3 do out:write({ b = i, a = "x", c = { z = 1, y = 2 } }) end
            local t = {}; t.c = 9; t.a = 8; t.b = 7
            out:write(t)
            out:write({ a = 1, b = 2, c = 3, d = 4 })
            out:write({ d = 1, a = 2 })
            out:write({ ["é"] = 1, e = 2, a = 3 })
            out:write({ b = 1, a = "q\\"uote\\\\", c = { "n" } })
            for i = 1, 2 do out:write({ ['k"\\n'] = i, a = 0 }) end
            out:close()
            """, store: store, options: options)
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), """
            {"a":"x","b":1,"c":{"y":2,"z":1}}
            {"a":"x","b":2,"c":{"y":2,"z":1}}
            {"a":"x","b":3,"c":{"y":2,"z":1}}
            {"a":8,"b":7,"c":9}
            {"a":1,"b":2,"c":3,"d":4}
            {"a":2,"d":1}
            {"a":3,"e":2,"é":1}
            {"a":"q\\"uote\\\\","b":1,"c":["n"]}
            {"a":0,"k\\"\\n":1}
            {"a":0,"k\\"\\n":2}

            """)
    }

    /// A writer's last bytes are written when it closes; on a full disk (`/dev/full`) that
    /// failure is raised by `close()` and by `<close>`, and fails the run when the script left
    /// the writer open or let it be collected: the end of a file is never lost without an error.
    func test_aWriterThatCannotWriteItsLastBytesOutIsAnErrorHoweverItCloses() throws {
        try XCTSkipUnless(FileManager.default.isWritableFile(atPath: "/dev/full"), "needs /dev/full (Linux)")
        let store = try makeStore()
        var options = RunOptions()
        options.arguments = ["/dev/full"]
        // close() and <close> raise it, and the script can carry on
        try runScript("""
            local w = csv.writer(arg[1], { "a" })
            w:write({ a = "1" })
            local ok, err = pcall(w.close, w)
            assert(not ok and err.code == "file.write_failed", tostring(err and err.code))
            assert(err.message:find("No space left on device", 1, true), err.message)
            assert(pcall(w.close, w))  -- closing again does nothing
            local ok2, err2 = pcall(function()
              local j <close> = json.writer(arg[1])
              j:write({ x = 1 })
            end)
            assert(not ok2 and err2.code == "file.write_failed", tostring(err2 and err2.code))
            """, store: store, options: options)
        // left open, or collected before the end: the run fails with the file's error
        for script in ["local w = json.writer(arg[1]); w:write({ x = 1 })",
                       "do local w = csv.writer(arg[1], { 'a' }); w:write({ a = '1' }) end; collectgarbage(); collectgarbage()"] {
            let report = try runScript(script, store: store, options: options, expectSuccess: false)
            XCTAssertEqual(report.outcome, .failed, script)
            XCTAssertEqual(report.errorCode, "file.write_failed", script)
            XCTAssertTrue(report.error?.contains("/dev/full") ?? false, report.error ?? "")
        }
        // a writer closed normally, or left open on a disk with room, is written out
        let path = try temporaryDirectory().appendingPathComponent("open.csv").path
        options.arguments = [path]
        try runScript("local w = csv.writer(arg[1], { 'a' }); w:write({ a = 'kept' })", store: store, options: options)
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "a\r\nkept\r\n")
    }

    /// `csv.rows` and `csv.keys` read a name the header gives twice from the same (first)
    /// column, so a mirror over rows it loaded never finds them missing; a delimiter must be
    /// one character; a directory is not a file to read.
    func test_csvReadersAgreeOnRepeatedNamesAndRefuseBadOptionsAndDirectories() throws {
        let store = try makeStore()
        let directory = try temporaryDirectory()
        let path = directory.appendingPathComponent("dup.csv").path
        try "id,name,id,id_2,name\n1,x,2,3,y\n".write(toFile: path, atomically: true, encoding: .utf8)
        var options = RunOptions()
        options.arguments = [path, directory.path]
        try runScript("""
            -- a repeated name is NAME_2, NAME_3… (the first free one): every column can be read
            for row in csv.rows(arg[1]) do
              assert(row.id == "1" and row.name == "x", tostring(row.id))
              assert(row.id_3 == "2" and row.id_2 == "3" and row.name_2 == "y", tostring(row.id_3) .. tostring(row.id_2) .. tostring(row.name_2))
            end
            local keys = csv.keys(arg[1], "id")
            assert(keys:has("1") and not keys:has("2") and keys:count() == 1)
            for _, bad in ipairs({ ";;", "", 59, true }) do
              local ok, err = pcall(csv.rows, arg[1], { delimiter = bad })
              assert(not ok and err.code == "file.invalid_option", tostring(bad) .. ": " .. tostring(err and err.code))
              ok, err = pcall(csv.keys, arg[1], "id", { delimiter = bad })
              assert(not ok and err.code == "file.invalid_option", tostring(bad))
            end
            local okd, errd = pcall(csv.rows, arg[1], { delimter = ";" })
            assert(not okd and tostring(errd.message or errd):find("unknown option 'delimter'", 1, true), tostring(errd and (errd.message or errd)))
            local ok, err = pcall(json.lines, arg[2])
            assert(not ok and err.code == "file.open_failed" and err.message:find("directory"), tostring(err and err.message))
            ok, err = pcall(csv.rows, arg[2])
            assert(not ok and err.code == "file.open_failed", tostring(err and err.code))
            """, store: store, options: options)
    }

    /// A CSV cell holds what JSON output would write for the value (a reference by key as its
    /// key, `cds.null` as nothing) and refuses what JSON refuses, naming the column, instead of
    /// writing an empty cell in its place.
    func test_csvWriterWritesReferencesAsJSONDoesAndRefusesValuesACellCannotHold() throws {
        let store = try makeStore()
        let path = try temporaryDirectory().appendingPathComponent("cells.csv").path
        var options = RunOptions()
        options.arguments = [path]
        try runScript("""
            local w = csv.writer(arg[1], { "ref", "none", "amount" })
            w:write({ ref = cds.ref("contact", "emailaddress1", "a@b.test"), none = cds.null, amount = cds.decimal("1.50") })
            for _, bad in ipairs({ {}, print, 0/0, 1/0 }) do
              local ok, err = pcall(w.write, w, { ref = "x", none = bad, amount = 1 })
              assert(not ok and err.code == "csv.invalid_value" and err.message:find("column 'none'", 1, true), tostring(err and err.message))
            end
            local ok, err = pcall(w.write, w, { ref = "caf\\233", none = "", amount = 1 })
            assert(not ok and err.code == "text.invalid_utf8", tostring(err and err.code))
            w:close()
            """, store: store, options: options)
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "ref,none,amount\r\nemailaddress1='a@b.test',,1.50\r\n")
    }

    /// A JSON array's nulls keep their places (cds.null, written back as null), and what can be
    /// read nests no deeper than what can be written, so a value read can always be written back.
    func test_jsonArrayNullsKeepTheirPlacesAndReadDepthMatchesWriteDepth() throws {
        let store = try makeStore()
        try runScript("""
            local list = json.decode("[1,null,3]")
            assert(#list == 3 and rawequal(list[2], cds.null) and list[3] == 3, #list)
            local n = 0
            for _ in ipairs(list) do n = n + 1 end
            assert(n == 3, n)
            assert(json.encode(list) == "[1,null,3]", json.encode(list))
            local object = json.decode('{"a":null,"b":[null]}')
            assert(object.a == nil and rawequal(object.b[1], cds.null))
            local deep = string.rep("[", 511) .. "1" .. string.rep("]", 511)
            assert(json.encode(json.decode(deep)) == deep)
            local ok, err = pcall(json.decode, string.rep("[", 513) .. string.rep("]", 513))
            assert(not ok and err.code == "json.malformed", tostring(err and err.message))
            local nested = {}
            for _ = 1, 512 do nested = { nested } end
            ok, err = pcall(json.encode, nested)
            assert(not ok and tostring(err):find("deeper than 512", 1, true), tostring(err))
            """, store: store)
    }

    /// JSON numbers with exponents are exact decimals too; a number no decimal holds exactly
    /// (more than 18 significant digits, an exponent past them) is an error naming the line,
    /// not a float that would quietly lose digits.
    func test_jsonNumbersAreExactOrAnError() throws {
        let store = try makeStore()
        let path = try temporaryDirectory().appendingPathComponent("n.jsonl").path
        try "{\"a\":1.5e3}\n{\"a\":123456789012345678901234567890}\n{\"a\":-2E-4}\n".write(toFile: path, atomically: true, encoding: .utf8)
        var options = RunOptions()
        options.arguments = [path]
        try runScript("""
            assert(tostring(json.decode("1.5e3")) == "1500", tostring(json.decode("1.5e3")))
            assert(tostring(json.decode("2E-4")) == "0.0002" and tostring(json.decode("1.25E+1")) == "12.5")
            assert(math.type(json.decode("9223372036854775807")) == "integer")
            for _, text in ipairs({ "123456789012345678901234567890", "1e400", "9223372036854775808", "1.000000000000000000001" }) do
              local ok, err = pcall(json.decode, text)
              assert(not ok and err.code == "json.malformed" and err.message:find("exactly", 1, true), text .. ": " .. tostring(err and err.message))
            end
            local ok, err = pcall(function() for value in json.lines(arg[1]) do end end)
            assert(not ok and err.code == "json.malformed" and err.message:find("n.jsonl:2", 1, true), tostring(err and err.message))
            """, store: store, options: options)
        options.onError = .continue
        let report = try runScript("""
            local seen = {}
            for value in json.lines(arg[1]) do seen[#seen + 1] = tostring(value.a) end
            assert(#seen == 2 and seen[1] == "1500" and seen[2] == "-0.0002", table.concat(seen, ","))
            """, store: store, options: options, expectSuccess: false)
        XCTAssertEqual(report.outcome, .rowsRejected, report.error ?? "")
    }

    /// A JSON line holding `null` comes as `cds.null`, and the lines after it are read (nil
    /// would have ended the loop there, silently).
    func test_aNullLineIsCdsNullAndTheLinesAfterItAreRead() throws {
        let store = try makeStore()
        let path = try temporaryDirectory().appendingPathComponent("nulls.jsonl").path
        try "{\"id\":1}\nnull\n{\"id\":2}\n{\"id\":3}\n".write(toFile: path, atomically: true, encoding: .utf8)
        var options = RunOptions()
        options.arguments = [path]
        try runScript("""
            local seen = {}
            for value in json.lines(arg[1]) do
              seen[#seen + 1] = rawequal(value, cds.null) and "null" or tostring(value.id)
            end
            assert(table.concat(seen, ",") == "1,null,2,3", table.concat(seen, ","))
            """, store: store, options: options)
    }

    /// A JSON line's syntax error names its file, line and column; a CSV header that cannot
    /// be read is `csv.malformed` naming the file and line, from `csv.rows` as from `csv.keys`.
    func test_fileErrorsNameTheirPlaceTheSameWayEverywhere() throws {
        let store = try makeStore()
        let directory = try temporaryDirectory()
        let json = directory.appendingPathComponent("bad.jsonl").path
        try "{\"a\":1}\n{\"a\":}\n".write(toFile: json, atomically: true, encoding: .utf8)
        let csv = directory.appendingPathComponent("h.csv").path
        try "a,\"b\nc\n".write(toFile: csv, atomically: true, encoding: .utf8)
        var options = RunOptions()
        options.arguments = [json, csv]
        try runScript("""
            local ok, err = pcall(function() for _ in json.lines(arg[1]) do end end)
            assert(not ok and err.code == "json.malformed" and err.message:find("^bad.jsonl:2:%d+: "), err.message)
            for _, open in ipairs({ function() return csv.rows(arg[2]) end, function() return csv.keys(arg[2], "a") end }) do
              local ok2, err2 = pcall(open)
              assert(not ok2 and err2.code == "csv.malformed" and err2.source == "h.csv:1", tostring(err2.code) .. " " .. tostring(err2.source))
            end
            """, store: store, options: options)
    }

    func test_jsonWriterWritesWhatJsonEncodeWritesAndFailsAlike() throws {
        let store = try makeStore()
        let directory = try temporaryDirectory()
        var options = RunOptions()
        options.arguments = [directory.appendingPathComponent("out.jsonl").path, directory.appendingPathComponent("expected.jsonl").path]
        try runScript("""
            cds.upsert("account", { accountnumber = "A1" }, { name = "x" })
            local ref = cds.ref("account", "accountnumber", "A1")
            local deep = {}
            local node = deep
            for i = 1, 600 do node.next = {}; node = node.next end  -- past the 512 levels JSON may nest
            -- 90 levels: valid JSON, and more than a binding's free stack slots (it once wrote past them)
            local nested, array = { leaf = "x" }, { "x" }
            for i = 1, 90 do nested = { next = nested }; array = { array } end
            local values = {
              { b = 1, a = "two", c = { 1, 2, { z = true, y = false } } },
              { ab = 1, a = 2, abc = 3, b = 4, aa = 5, [""] = 6 },
              { ["zé"] = 1, ["ze"] = 2, ["Z"] = 3, ["é"] = "\\u{301}e" },
              { text = "quote \\" backslash \\\\ newline \\n tab \\t nul \\0 bell \\7 ü 😀" },
              { n = 1.5, i = -7, big = 2^53, tiny = 1e-300, d = cds.decimal("0.10"), r = ref, null = cds.null },
              {}, { {}, {} }, "plain", 42, true, cds.decimal("-12.3400"), nested, array,
            }
            local failing = {
              { f = print }, { 1, 2, x = 3 }, { [1.5] = "x" }, { [0] = "x" }, { 0/0 }, { x = 1/0 }, deep, { 1, nil, 3 },
              -- text that is not UTF-8, as a value or a key: repaired, two keys would become one
              { bad = "\\xff\\xfe ok" }, { ["k\\xff"] = 1 },
            }
            local out = json.writer(arg[1])
            local expected = {}
            for _, value in ipairs(values) do
              out:write(value)
              expected[#expected + 1] = json.encode(value)
            end
            for _, value in ipairs(failing) do
              local ok1, e1 = pcall(out.write, out, value)
              local ok2, e2 = pcall(json.encode, value)
              assert(not ok1 and not ok2, "both fail")
              local function text(e) return type(e) == "table" and tostring(e.message) or tostring(e) end
              assert(text(e1):gsub("^.-: ", "") == text(e2):gsub("^.-: ", ""), text(e1) .. " / " .. text(e2))
            end
            out:close()
            local texts = json.writer(arg[2])
            for _, text in ipairs(expected) do texts:write(text) end
            texts:close()
            """, store: store, options: options)
        // what json.encode wrote, each as a JSON string, read back with Foundation's parser
        let written = try String(contentsOfFile: options.arguments[0], encoding: .utf8).split(separator: "\n").map(String.init)
        let expected = try String(contentsOfFile: options.arguments[1], encoding: .utf8).split(separator: "\n").map { line in
            try JSONSerialization.jsonObject(with: Data(line.utf8), options: [.fragmentsAllowed]) as? String
        }
        XCTAssertEqual(written.count, 13)
        XCTAssertEqual(written[11].count, 90 * 9 + 12)  // {"next": … } around {"leaf":"x"}
        XCTAssertEqual(written, expected.map { $0 ?? "?" })
        XCTAssertEqual(written.first, #"{"a":"two","b":1,"c":[1,2,{"y":false,"z":true}]}"#)
        XCTAssertEqual(written[1], #"{"":6,"a":2,"aa":5,"ab":1,"abc":3,"b":4}"#)  // keys that prefix others
    }

    func test_deeplyNestedJSONDecodesWithinLuasStack() throws {
        let store = try makeStore()
        let path = try temporaryDirectory().appendingPathComponent("deep.jsonl").path
        let depth = 400
        try (String(repeating: "[", count: depth) + "1" + String(repeating: "]", count: depth) + "\n"
             + String(repeating: "{\"a\":", count: depth) + "2" + String(repeating: "}", count: depth) + "\n")
            .write(toFile: path, atomically: true, encoding: .utf8)
        var options = RunOptions()
        options.arguments = [path, String(depth)]
        try runScript("""
            local depth = tonumber(arg[2])
            local function bottom(value, key)
              for _ = 1, depth do value = value[key] end
              return value
            end
            local text = string.rep("[", depth) .. "1" .. string.rep("]", depth)
            assert(bottom(json.decode(text), 1) == 1)
            local values = {}
            for value in json.lines(arg[1]) do values[#values + 1] = value end
            assert(bottom(values[1], 1) == 1 and bottom(values[2], "a") == 2)
            cds.upsert("new_item", { new_code = "AFTER" }, { new_name = "still fine" })
            """, store: store, options: options)
        XCTAssertEqual(try store.count("new_item"), 1)
    }

    func test_runawayMemoryStopsTheScriptAndPcallCannotCatchIt() throws {
        let store = try makeStore()
        var options = RunOptions()
        options.memoryLimit = 16 * 1024 * 1024
        let report = try runScript("""
            local t = {}
            pcall(function() for i = 1, 1e9 do t[i] = ("x"):rep(100) .. i end end)
            cds.upsert("account", { accountnumber = "AFTER" }, { name = "should not be written" })
            """, store: store, options: options, expectSuccess: false)
        XCTAssertEqual(report.outcome, .failed)
        XCTAssertEqual(report.errorCode, "script.memory")
        XCTAssertEqual(try store.count("account"), 0)
    }

    func test_timeoutStopsALoopThatCatchesErrors() throws {
        let store = try makeStore()
        var options = RunOptions()
        options.timeout = 0.5
        let started = Date()
        let report = try runScript("while true do pcall(function() while true do end end) end", store: store, options: options, expectSuccess: false)
        XCTAssertEqual(report.errorCode, "script.timeout")
        // it says where the script was (the watchdog's error has no position of its own)
        XCTAssertTrue(report.error?.hasPrefix("job.lua:1: script timed out") == true, report.error ?? "")
        XCTAssertLessThan(Date().timeIntervalSince(started), 10)
    }

    /// A limit caught right before the script ends, or in a coroutine, still fails the run,
    /// and every cds/csv/json call after it raises it again: nothing is written after the
    /// limit. A deadline passed inside a finalizer (where the watchdog does not run) too.
    func test_aCaughtLimitStillFailsTheRunAndStopsLaterWrites() throws {
        let store = try makeStore()
        var options = RunOptions()
        options.memoryLimit = 16 * 1024 * 1024
        var report = try runScript("""
            local ok, e = pcall(function() local t = {} for i = 1, 1e9 do t[i] = i end end)
            local ok2, e2 = pcall(cds.upsert, "account", { accountnumber = "AFTER" }, { name = "no" })
            assert(not ok2 and tostring(e2):find("memory limit", 1, true), tostring(e2))
            """, store: store, options: options, expectSuccess: false)
        XCTAssertEqual(report.errorCode, "script.memory", report.error ?? "")
        options = RunOptions()
        options.timeout = 0.3
        report = try runScript("""
            for i = 1, 3 do assert(not coroutine.resume(coroutine.create(function() while true do end end))) end
            cds.upsert("account", { accountnumber = "AFTER" }, { name = "no" })
            """, store: store, options: options, expectSuccess: false)
        XCTAssertEqual(report.errorCode, "script.timeout", report.error ?? "")
        report = try runScript("""
            setmetatable({}, { __gc = function() local t = os.clock() while os.clock() - t < 0.6 do end end })
            collectgarbage()
            cds.upsert("account", { accountnumber = "AFTER" }, { name = "no" })
            """, store: store, options: options, expectSuccess: false)
        XCTAssertEqual(report.errorCode, "script.timeout", report.error ?? "")
        XCTAssertEqual(try store.count("account"), 0)
    }

    func test_sandboxHasNoProcessOrFileAccessOutsideTheModules() throws {
        let store = try makeStore()
        try runScript("""
            assert(os.execute == nil and io == nil and package.loadlib == nil and dofile == nil and loadfile == nil)
            assert(load(string.dump(function() end)) == nil, "bytecode is refused")
            """, store: store)
    }
}
