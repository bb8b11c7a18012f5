import EntityModel
import EntityStore
import SyncHost
import XCTest

/// `cds.upsert` by key table sends positional values in a shape remembered from the calls
/// before; every way a table can differ from the last shape must still write the right columns.
final class RowShaperTests: XCTestCase {
    private func item(_ store: EntityStore, _ code: String) throws -> Record {
        try store.retrieve(EntityReference("new_item", keys: ["new_code": .string(code)]), columns: nil)
    }

    func test_shapesThatDifferFromTheLastOneWriteTheirOwnColumns() throws {
        let store = try makeStore()
        try runScript("""
            -- the same constructor: one shape
            for i = 1, 3 do
              cds.upsert("new_item", { new_code = "C" .. i }, { new_name = "n" .. i, new_count = i })
            end
            -- a nil field leaves its column out: another shape, not a stale position
            local count = nil
            cds.upsert("new_item", { new_code = "C4" }, { new_name = "n4", new_count = count })
            -- the same names built in another order, then an extra column, then fewer
            local t = {}; t.new_count = 5; t.new_name = "n5"
            cds.upsert("new_item", { new_code = "C5" }, t)
            cds.upsert("new_item", { new_code = "C6" }, { new_name = "n6", new_count = 6, new_flag = true })
            cds.upsert("new_item", { new_code = "C1" }, { new_count = 10 })
            -- back to the first shape after others, and an empty field table
            cds.upsert("new_item", { new_code = "C2" }, { new_name = "n2b", new_count = 20 })
            cds.upsert("new_item", { new_code = "C7" }, {})
            """, store: store)
        XCTAssertEqual(try item(store, "C1")["new_name"], .string("n1"))
        XCTAssertEqual(try item(store, "C1")["new_count"], .integer(10))
        XCTAssertEqual(try item(store, "C2")["new_name"], .string("n2b"))
        XCTAssertEqual(try item(store, "C2")["new_count"], .integer(20))
        XCTAssertEqual(try item(store, "C3")["new_count"], .integer(3))
        XCTAssertEqual(try item(store, "C4")["new_name"], .string("n4"))
        XCTAssertEqual(try item(store, "C4")["new_count"], .null)
        XCTAssertEqual(try item(store, "C5")["new_name"], .string("n5"))
        XCTAssertEqual(try item(store, "C5")["new_count"], .integer(5))
        XCTAssertEqual(try item(store, "C6")["new_flag"], .boolean(true))
        XCTAssertEqual(try item(store, "C7")["new_name"], .null)
        XCTAssertEqual(try store.count("new_item"), 7)
    }

    func test_manyShapesInTurnKeepTheirColumns() throws {
        let store = try makeStore()
        // more shapes than the shaper keeps as recent, used round-robin
        try runScript("""
            local names = { "new_name", "new_count", "new_flag", "new_ratio", "new_kind", "new_total" }
            local values = { new_name = "x", new_count = 7, new_flag = false, new_ratio = 0.5, new_kind = 1, new_total = cds.decimal("1.25") }
            for round = 1, 3 do
              for i, name in ipairs(names) do
                cds.upsert("new_item", { new_code = name .. round }, { [name] = values[name] })
              end
            end
            """, store: store)
        XCTAssertEqual(try store.count("new_item"), 18)
        XCTAssertEqual(try item(store, "new_ratio3")["new_ratio"], .float(0.5))
        XCTAssertEqual(try item(store, "new_ratio3")["new_count"], .null)
        XCTAssertEqual(try item(store, "new_total2")["new_total"], .decimal(DecimalNumber("1.25")!))
        XCTAssertEqual(try item(store, "new_kind1")["new_kind"], .integer(1))
    }

    func test_badTablesAreArgumentErrorsNamingTheColumn() throws {
        let store = try makeStore()
        let cases: [(String, String)] = [
            ("cds.upsert('new_item', { new_code = 'A' }, { new_name = 'a', [1] = 'x' })", "field names must be strings"),
            ("cds.upsert('new_item', {}, { new_name = 'a' })", "the key table is empty"),
            ("cds.upsert('new_item', { [2] = 'A' }, { new_name = 'a' })", "field names must be strings"),
            // after a shape is known, a bad value in a matching and in a differing position
            ("cds.upsert('new_item', { new_code = 'A' }, { new_name = 'a' }); cds.upsert('new_item', { new_code = 'B' }, { new_name = {} })",
             "'new_name' cannot be set to a table"),
            ("cds.upsert('new_item', { new_code = 'A' }, { new_name = 'a' }); cds.upsert('new_item', { new_code = 'B' }, { new_count = print })",
             "'new_count' cannot be set to a function"),
        ]
        for (source, message) in cases {
            let report = try runScript(source, store: store, expectSuccess: false)
            XCTAssertEqual(report.outcome, .failed, source)
            XCTAssertTrue(report.error?.contains(message) ?? false, "\(source): \(report.error ?? "no error")")
        }
    }

    func test_storeErrorsNameTheKeyAndLine() throws {
        let store = try makeStore()
        let report = try runScript("""
            cds.upsert("new_item", { new_code = "OK" }, { new_name = "fine" })
            cds.upsert("new_item", { new_code = "LONG" }, { new_name = string.rep("x", 30) })
            """, store: store, expectSuccess: false)
        XCTAssertEqual(report.outcome, .failed)
        let error = report.error ?? ""
        XCTAssertTrue(error.contains("new_code='LONG'"), error)
        XCTAssertTrue(error.contains(":2"), error)
        XCTAssertTrue(error.contains("new_name"), error)
    }
}
