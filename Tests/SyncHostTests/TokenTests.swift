import EntityModel
import EntityStore
import Foundation
import SyncHost
import XCTest

/// Change tokens advance only when the run's work has been committed.
final class TokenTests: XCTestCase {
    private let extract = """
        local n = 0
        for change in cds.changes("account", { token = "wh", columns = { "name" } }) do n = n + 1 end
        cds.upsert("account", { accountnumber = "SEEN" }, { name = tostring(n) })
        """

    func test_tokenAdvancesAfterASuccessfulRunOnly() throws {
        let store = try makeStore()
        for number in ["A", "B"] { try store.execute(.create(entity: "account", id: nil, fields: ["name": .string(number), "accountnumber": .string(number)])) }
        let first = try runScript(extract, store: store)
        XCTAssertEqual(first.tokensAdvanced, ["wh"])
        let saved = try XCTUnwrap(try store.token(named: "wh"))
        _ = try store.execute(.update(EntityReference("account", keys: ["accountnumber": .string("A")]), fields: ["name": .string("A2")], ifVersion: nil))
        let failing = try runScript(extract + "\nerror('boom')", store: store, expectSuccess: false)
        XCTAssertEqual(failing.outcome, .failed)
        XCTAssertTrue(failing.tokensAdvanced.isEmpty)
        XCTAssertEqual(try store.token(named: "wh"), saved, "a failed run leaves the token where it was")
        try runScript(extract, store: store)
        let seen = try store.retrieve(EntityReference("account", keys: ["accountnumber": .string("SEEN")]), columns: ["name"])
        XCTAssertEqual(seen["name"], .string("2"), "the change to A and the previous run's own write are delivered again")
    }

    func test_changesOverManyPagesArriveOnceEachInOrderWhileTheLoopWrites() throws {
        let store = try makeStore()
        try runScript("""
            for i = 1, 23 do cds.upsert("account", { accountnumber = string.format("P%02d", i) }, { name = "n" .. i }) end
            for c in cds.changes("account", { token = "pages" }) do end
            for i = 1, 23 do cds.upsert("account", { accountnumber = string.format("P%02d", i) }, { name = "m" .. i }) end
            cds.delete("account", { accountnumber = "P07" })
            """, store: store)
        // pages of 5 are read ahead while the loop body writes other records and reads one back
        let report = try runScript("""
            local seen, order = {}, {}
            for c in cds.changes("account", { token = "pages", page_size = 5, columns = { "accountnumber", "name" } }) do
              local key = c.deleted and c.key.accountnumber or c.record.accountnumber
              assert(not seen[key], "delivered twice: " .. key)
              seen[key] = true
              order[#order + 1] = key
              cds.upsert("account", { accountnumber = "LOG-" .. key }, { name = "seen" })
              assert(cds.get("account", { accountnumber = "LOG-" .. key }).name == "seen")
            end
            assert(#order == 23, "changes: " .. #order)
            assert(order[1] == "P01" and order[22] == "P23" and order[23] == "P07", table.concat(order, ","))
            """, store: store)
        XCTAssertEqual(report.tokensAdvanced, ["pages"])
        XCTAssertEqual(try store.count("account"), 22 + 23)
        // a loop left early after reading ahead saves nothing, and the next run still gets all of them
        let early = try runScript("""
            for c in cds.changes("account", { token = "pages", page_size = 5 }) do break end
            """, store: store)
        XCTAssertTrue(early.tokensAdvanced.isEmpty)
        try runScript("""
            local n = 0
            for c in cds.changes("account", { token = "pages", page_size = 5 }) do n = n + 1 end
            assert(n == 23, "the LOG- records written by the last run: " .. n)
            """, store: store)
    }

    func test_pagesGrowFromASmallFirstOneAndDeliverEveryChangeOnce() throws {
        let store = try makeStore()
        // 3,000 changes: a first page of 500, then 2,000, then the full size (default or page_size)
        try runScript("""
            for _, name in ipairs({ "nil", "700", "5000", "1", "0", "-1", "math.maxinteger" }) do cds.start_tracking("account", "grow-" .. name) end
            """, store: store)
        try runScript("""
            for i = 1, 3000 do cds.upsert("account", { accountnumber = string.format("G%04d", i) }, { name = "n" .. i }) end
            for i = 1, 40 do cds.delete("account", { accountnumber = string.format("G%04d", i * 50) }) end
            """, store: store)
        // a page size of 0 or less is a mistake, refused before anything is read
        for pageSize in ["0", "-1", "1.5", "'10'"] {
            let report = try runScript("cds.changes('account', { token = 'grow-0', page_size = \(pageSize) })", store: store, expectSuccess: false)
            XCTAssertTrue(report.error?.contains("option 'page_size' must be a whole number above 0") ?? false, report.error ?? "")
        }
        for pageSize in ["nil", "700", "5000", "1", "math.maxinteger"] {
            try runScript("""
                local seen, count, deleted, previous = {}, 0, 0, ""
                for c in cds.changes("account", { token = "grow-\(pageSize)", page_size = \(pageSize), columns = { "accountnumber" } }) do
                  local key = c.deleted and c.key.accountnumber or c.record.accountnumber
                  assert(not seen[key], "delivered twice: " .. key)
                  seen[key] = true
                  count = count + 1
                  if c.deleted then deleted = deleted + 1 else assert(key > previous, key .. " after " .. previous); previous = key end
                end
                assert(count == 3000 and deleted == 40, count .. " changes, " .. deleted .. " deleted")
                -- (a created-then-deleted record is a deletion only: 2,960 rows and 40 deletions)
                """, store: store)
        }
    }

    func test_aLoopBodyThatWritesLaterRecordsOfThePageAfterNextSeesThemAsWithoutReadAhead() throws {
        let store = try makeStore()
        try runScript("""
            for i = 1, 12 do cds.upsert("account", { accountnumber = string.format("W%02d", i) }, { name = "n" .. i }) end
            """, store: store)
        // pages of 3: while on W01 the next page (W04-W06) has been read ahead; the body then
        // deletes W05 and renames W06, so neither may come in this loop (their versions are
        // past the watermark, or they are gone), exactly as when pages are read one by one
        try runScript("""
            local seen = {}
            for c in cds.changes("account", { token = "ahead", page_size = 3, columns = { "accountnumber", "name" } }) do
              local key = c.record.accountnumber
              seen[#seen + 1] = key
              if key == "W01" then
                cds.delete("account", { accountnumber = "W05" })
                cds.update("account", { accountnumber = "W06" }, { name = "renamed" })
              end
            end
            assert(table.concat(seen, ",") == "W01,W02,W03,W04,W07,W08,W09,W10,W11,W12", table.concat(seen, ","))
            """, store: store)
    }

    func test_breakingOutOfTheLoopDoesNotAdvanceTheToken() throws {
        let store = try makeStore()
        for number in ["A", "B", "C"] { try store.execute(.create(entity: "account", id: nil, fields: ["name": .string(number)])) }
        let report = try runScript("for change in cds.changes('account', { token = 'partial' }) do break end", store: store)
        XCTAssertTrue(report.tokensAdvanced.isEmpty)
        XCTAssertNil(try store.token(named: "partial"))
    }

    func test_deletionsArriveAsDeletedChanges() throws {
        let store = try makeStore()
        try runScript("cds.upsert('account', { accountnumber = 'D' }, { name = 'd' }); for c in cds.changes('account', { token = 't' }) do end", store: store)
        try runScript("""
            cds.delete("account", { accountnumber = "D" })
            local seen = {}
            for c in cds.changes("account", { token = "t" }) do seen[#seen + 1] = c end
            assert(#seen == 1 and seen[1].deleted == true and #seen[1].id == 36 and seen[1].record == nil)
            assert(seen[1].key.accountnumber == "D", "a deletion carries the record's alternate key")
            """, store: store)
    }

    func test_expiredTokenIsAnErrorUnlessTheScriptAsksForAResync() throws {
        let store = try makeStore()
        try store.execute(.create(entity: "account", id: nil, fields: ["name": .string("x")]))
        try store.saveToken(SavedToken(name: "old", token: ChangeToken(version: 1, issued: Date().addingTimeInterval(-30 * 86_400)).text,
                                       entity: "account", updatedAt: Date()))
        let failed = try runScript("for c in cds.changes('account', { token = 'old' }) do end", store: store, expectSuccess: false)
        XCTAssertEqual(failed.errorCode, "0x80044352")
        let resync = try runScript("""
            local n = 0
            for c in cds.changes('account', { token = 'old', on_expired = 'resync' }) do n = n + 1 end
            assert(n == 1, n)
            """, store: store)
        XCTAssertEqual(resync.tokensAdvanced, ["old"])
    }

    func test_checkpointSavesTokensMidRun() throws {
        let store = try makeStore()
        try store.execute(.create(entity: "account", id: nil, fields: ["name": .string("x")]))
        let report = try runScript("""
            for c in cds.changes('account', { token = 'cp' }) do end
            assert(cds.checkpoint() == 1)
            error("later failure")
            """, store: store, expectSuccess: false)
        XCTAssertEqual(report.tokensAdvanced, ["cp"])
        XCTAssertNotNil(try store.token(named: "cp"))
    }

    func test_startTrackingTakesATokenForNowWithoutReadingRows() throws {
        let store = try makeStore()
        try store.execute(.create(entity: "account", id: nil, fields: ["name": .string("before")]))
        let report = try runScript("cds.start_tracking('account', 'fromnow')", store: store)
        XCTAssertEqual(report.tokensAdvanced, ["fromnow"])
        try store.execute(.create(entity: "account", id: nil, fields: ["name": .string("after")]))
        try runScript("""
            local names = {}
            for c in cds.changes("account", { token = "fromnow" }) do names[#names + 1] = c.record.name end
            assert(#names == 1 and names[1] == "after", table.concat(names, ","))
            """, store: store)
    }

    /// A token cannot be moved to another entity by `start_tracking` (as `cds.changes` refuses
    /// it), and token names must be visible text: blank names, line breaks and tabs made
    /// `tokens list` rows that could not be told apart.
    func test_startTrackingKeepsATokensEntityAndTokenNamesAreVisibleText() throws {
        let store = try makeStore()
        try runScript("cds.start_tracking('account', 't1')", store: store)
        let moved = try runScript("cds.start_tracking('contact', 't1')", store: store, expectSuccess: false)
        XCTAssertTrue(moved.error?.contains("the token 't1' tracks 'account', not 'contact'") == true, moved.error ?? "")
        XCTAssertEqual(try store.token(named: "t1")?.entity, "account")
        try runScript("""
            for _, bad in ipairs({ "", "  ", "a\\nb", "tab\\there" }) do
              local ok, err = pcall(cds.start_tracking, "account", bad)
              assert(not ok and tostring(err):find("visible text", 1, true), bad .. ": " .. tostring(err))
              ok, err = pcall(function() for c in cds.changes("account", { token = bad }) do end end)
              assert(not ok and tostring(err):find("visible text", 1, true), bad .. ": " .. tostring(err))
            end
            """, store: store)
    }

    /// An error raised inside `cds.transaction` reaches the script's `pcall` as raised (a
    /// string error came back with a stack traceback appended).
    func test_anErrorInsideATransactionReachesPcallAsRaised() throws {
        let store = try makeStore()
        try runScript("""
            local ok, err = pcall(cds.transaction, function() error("plain") end)
            assert(not ok and err == "job.lua:1: plain", err)
            ok, err = pcall(cds.transaction, function() error({ code = "mine" }) end)
            assert(not ok and err.code == "mine")
            """, store: store)
    }

    /// An iterator kept in a variable loses its state (the other values the call returns);
    /// the error says to call it in the `for` itself rather than "cds.Changes expected, got nil".
    func test_anIteratorKeptInAVariableSaysHowToCallIt() throws {
        let store = try makeStore()
        try runScript("""
            local it = cds.changes("account", { token = "wt" })
            local ok, err = pcall(function() for c in it do end end)
            assert(not ok and tostring(err):find("call the function in the for statement itself", 1, true), tostring(err))
            local rows = cds.rows("account")
            ok, err = pcall(function() for r in rows do end end)
            assert(not ok and tostring(err):find("iterator was called without its state", 1, true), tostring(err))
            """, store: store)
    }

    /// A batch that fails as a whole (the store unavailable) loses its writes; a script that
    /// catches the error and goes on must not end as a success that saves its token (it did:
    /// exit 0, token saved, the writes gone).
    func test_aCaughtLossOfWritesStillFailsTheRunAndSavesNoToken() throws {
        final class FailsFirstBatch: DataService, @unchecked Sendable {
            let store: EntityStore
            var failed = false
            init(_ store: EntityStore) { self.store = store }
            func execute(_ request: ServiceRequest) throws -> ServiceResponse {
                if case .executeMultiple = request, !failed {
                    failed = true
                    throw ServiceError(.storeUnavailable, "The store is busy (test).")
                }
                return try store.execute(request)
            }
            func entityDefinitions() throws -> [EntityDefinition] { try store.entityDefinitions() }
        }
        let store = try makeStore()
        let host = try ScriptHost(service: FailsFirstBatch(store), tokens: store, options: RunOptions())
        let report = host.run(source: """
            for c in cds.changes("account", { token = "lost" }) do end
            cds.upsert("account", { accountnumber = "L1" }, { name = "lost" })
            local ok, err = pcall(cds.flush)
            assert(not ok and err.code == "store.unavailable", tostring(err))
            cds.upsert("account", { accountnumber = "L2" }, { name = "after" })
            local saved, why = pcall(cds.checkpoint)
            assert(not saved and why.code == "store.unavailable", "no checkpoint after lost writes")
            """, chunkName: "job.lua")
        XCTAssertEqual(report.outcome, .temporaryFailure, report.error ?? "")
        XCTAssertEqual(report.errorCode, "store.unavailable")
        XCTAssertTrue(report.tokensAdvanced.isEmpty)
        XCTAssertNil(try store.token(named: "lost"))
        XCTAssertEqual(try store.count("account"), 0)
    }

    func test_tokensReachedInsideAFailedTransactionAreNotSaved() throws {
        let store = try makeStore()
        try store.execute(.create(entity: "account", id: nil, fields: ["name": .string("x")]))
        let report = try runScript("""
            local ok = pcall(cds.transaction, function()
              for c in cds.changes("account", { token = "tx" }) do end
              cds.upsert("account", { accountnumber = "T" }, { name = "t" })
              error("abandon")
            end)
            assert(not ok)
            assert(not pcall(cds.transaction, function() cds.checkpoint() end), "checkpoint inside a transaction is refused")
            """, store: store)
        XCTAssertTrue(report.tokensAdvanced.isEmpty)
        XCTAssertNil(try store.token(named: "tx"))
    }
}
