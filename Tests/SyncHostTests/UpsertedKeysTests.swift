import EntityStore
import Foundation
import SyncHost
import XCTest

/// `cds.upserted_keys(entity, column)`: the keys a run's upserts named, as the source of a
/// mirror that reads its export once.
final class UpsertedKeysTests: XCTestCase {
    /// Every upsert of the entity adds its key (through the chunks that are hashed later, so
    /// more than one chunk), in both upsert forms; the mirror deletes exactly the others.
    func test_upsertedKeysFeedAMirrorThatDeletesOnlyTheRecordsNotUpserted() throws {
        let store = try makeStore()
        try runScript("""
            for i = 1, 20 do cds.upsert("account", { accountnumber = "OLD" .. i }, { name = "old" }) end
            """, store: store)
        try runScript("""
            local seen = cds.upserted_keys("account", "accountnumber")
            local other = cds.upserted_keys("contact", "emailaddress1")
            for i = 1, 9000 do cds.upsert("account", { accountnumber = "N" .. i }, { name = "new" }) end
            for i = 1, 10 do cds.upsert("account", { accountnumber = "old" .. i }, { name = "kept" }) end  -- keys ignore case
            cds.upsert("account", cds.ref("account", "accountnumber", "OLD11"), { name = "kept by ref" })
            cds.upsert("contact", { emailaddress1 = "c@x.test" }, { lastname = "C" })
            assert(seen:count() == 9011, seen:count())
            assert(seen:has("n9000") and seen:has("OLD11") and not seen:has("OLD12") and not seen:has("c@x.test"))
            assert(other:count() == 1 and other:has("C@X.TEST"))
            local mirror = require("cdsync.mirror")
            local result = mirror.sync("account", { key = "accountnumber", source = seen, action = "delete", max_deletes = 9 })
            assert(result.deleted == 9 and result.considered == 9020, result.deleted .. " " .. result.considered)
            """, store: store, options: stdlibOptions())
        XCTAssertEqual(try store.count("account"), 9011)
        let left = try runScript("""
            for i = 12, 20 do assert(cds.get("account", { accountnumber = "OLD" .. i }) == nil, i) end
            assert(cds.get("account", { accountnumber = "OLD11" }).name == "kept by ref")
            """, store: store)
        XCTAssertEqual(left.outcome, .succeeded)
    }

    /// An upsert of the entity by its GUID carries no value of the column: the set cannot stand
    /// for the source, and a mirror over it would delete that record, so it is refused.
    func test_anUpsertByAnotherKeyMakesTheSetUnusableForAMirror() throws {
        let store = try makeStore()
        try runScript("""
            cds.upsert("account", { accountnumber = "A1" }, { name = "a" })
            cds.upsert("account", { accountnumber = "A2" }, { name = "b" })
            """, store: store)
        let report = try runScript("""
            local id = cds.get("account", { accountnumber = "A2" }).accountid
            local seen = cds.upserted_keys("account", "accountnumber")
            cds.upsert("account", { accountnumber = "A1" }, { name = "a" })
            cds.upsert("account", id, { name = "b, by id" })
            local mirror = require("cdsync.mirror")
            mirror.sync("account", { key = "accountnumber", source = seen, action = "delete", max_deletes = 5 })
            """, store: store, options: stdlibOptions(), expectSuccess: false)
        XCTAssertEqual(report.errorCode, "keys.incomplete")
        XCTAssertTrue((report.error ?? "").contains("line 4 upserted account by account("), report.error ?? "")
        XCTAssertEqual(try store.count("account"), 2)
    }

    /// A rejected upsert still names a record the source has: its key stays in the set, so
    /// the mirror keeps the record (deleting it would lose data over a fixable row).
    func test_aRejectedUpsertKeepsItsRecordOutOfTheMirror() throws {
        let store = try makeStore()
        try runScript("""
            cds.upsert("account", { accountnumber = "R1" }, { name = "one" })
            cds.upsert("account", { accountnumber = "R2" }, { name = "two" })
            """, store: store)
        var options = stdlibOptions()
        options.onError = .continue
        let report = try runScript("""
            local seen = cds.upserted_keys("account", "accountnumber")
            cds.upsert("account", { accountnumber = "R1" }, { name = "one" })
            cds.upsert("account", { accountnumber = "R2" }, { name = string.rep("x", 500) })  -- too long: rejected
            local mirror = require("cdsync.mirror")
            local result = mirror.sync("account", { key = "accountnumber", source = seen, action = "delete", max_deletes = 5 })
            assert(result.deleted == 0, result.deleted)
            """, store: store, options: options, expectSuccess: false)
        XCTAssertEqual(report.counters.failed, 1, report.error ?? "")
        XCTAssertEqual(try store.count("account"), 2)
    }

    func test_theEntityAndColumnAreChecked() throws {
        let store = try makeStore()
        try runScript("""
            local ok, err = pcall(cds.upserted_keys, "acount", "accountnumber")
            assert(not ok and err.code == "0x8006088a" and err.message:find("acount", 1, true), tostring(err.code) .. " " .. tostring(err.message))
            ok, err = pcall(cds.upserted_keys, "account", "name")
            assert(not ok and tostring(err):find("'name' is not a one-column alternate key of account (one-column keys: accountnumber)", 1, true), tostring(err))
            ok, err = pcall(cds.upserted_keys, "account")
            assert(not ok and tostring(err):find("string expected", 1, true), tostring(err))
            """, store: store)
    }

    /// `cds.stats()` tells a script how long the process has run and its peak memory.
    func test_statsReportElapsedSecondsAndPeakMemory() throws {
        let store = try makeStore()
        try runScript("""
            local first = cds.stats()
            assert(math.type(first.elapsed) == "float" and first.elapsed >= 0, tostring(first.elapsed))
            local t = os.clock(); while os.clock() - t < 0.05 do end
            local second = cds.stats()
            assert(second.elapsed >= first.elapsed + 0.04, first.elapsed .. " " .. second.elapsed)
            assert(second.peak_rss_mb > 1, tostring(second.peak_rss_mb))
            """, store: store)
    }

    /// Creates and updates of the entity count like upserts: a record created in the run is in
    /// the source, and was deleted by the mirror when only upserts were collected.
    func test_createsAndUpdatesAreCollectedOrMakeTheSetIncomplete() throws {
        let store = try makeStore()
        try runScript("""
            cds.upsert("account", { accountnumber = "OLD" }, { name = "old" })
            cds.upsert("account", { accountnumber = "UPD" }, { name = "u" })
            """, store: store)
        try runScript("""
            local seen = cds.upserted_keys("account", "accountnumber")
            cds.create("account", { accountnumber = "N1", name = "created" })
            cds.update("account", { accountnumber = "UPD" }, { name = "updated" })
            local result = require("cdsync.mirror").sync("account", { key = "accountnumber", source = seen, action = "delete", max_deletes = 5 })
            assert(result.deleted == 1 and result.keys[1] == "OLD", result.deleted)
            """, store: store, options: stdlibOptions())
        XCTAssertEqual(try store.count("account"), 2)
        let report = try runScript("""
            local seen = cds.upserted_keys("account", "accountnumber")
            cds.create("account", { name = "no number" })
            cds.missing("account", seen, { key = "accountnumber" })
            """, store: store, expectSuccess: false)
        XCTAssertEqual(report.errorCode, "keys.incomplete")
        XCTAssertTrue((report.error ?? "").contains("line 2 created account without accountnumber"), report.error ?? "")
    }

    /// Keys compare as text, so key columns whose stored form differs from what a script gives
    /// (a decimal 7.5 stored as 7.50) are refused rather than mirrored into deletions.
    func test_keyColumnsThatDoNotCompareAsTextAreRefused() throws {
        let store = try EntityStore(path: nil)
        try store.applySchemaFile("""
            entities:
              - name: price
                state_model: false
                attributes: [ { name: code, type: decimal, precision: 2 }, { name: label, type: string }, { name: sku, type: string } ]
                keys: [ { name: ak_price_code, columns: [code] }, { name: ak_price_pair, columns: [label, sku] } ]
            """)
        try runScript("""
            cds.upsert("price", { code = cds.decimal("7.5") }, { label = "a" })
            local ok, err = pcall(cds.upserted_keys, "price", "code")
            assert(not ok and tostring(err):find("is a decimal column", 1, true), tostring(err))
            ok, err = pcall(cds.upserted_keys, "price", "label")
            assert(not ok and tostring(err):find("not a one-column alternate key", 1, true), tostring(err))
            local set = cds.key_set(); set:add("7.5")
            ok, err = pcall(cds.missing, "price", set, { key = "code" })
            assert(not ok and tostring(err):find("a mirror compares text, whole-number or GUID keys", 1, true), tostring(err))
            """, store: store)
        XCTAssertEqual(try store.count("price"), 1)
    }
}
