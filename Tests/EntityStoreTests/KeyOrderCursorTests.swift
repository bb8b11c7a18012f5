import EntityModel
import EntityStore
import XCTest

/// Positional upserts in one batch follow the table in key order (`KeyOrderCursor`) instead of
/// seeking each key. Whatever the order of a batch's keys, the outcome must be what the same
/// batch of `.upsert` requests gives: the same responses, errors, rows and versions.
final class KeyOrderCursorTests: XCTestCase {
    private typealias Row = (key: String, name: String, count: Int64, mode: UpsertMode)

    private let shape = RowShape(keyColumns: ["accountnumber"], fieldColumns: ["name", "numberofemployees"])

    private func requests(_ rows: [Row], positional: Bool) -> [ServiceRequest] {
        rows.map { row in
            positional
                ? .upsertRow(RowUpsert(entity: "account", shape: shape, keyValues: [.string(row.key)],
                                       values: [.string(row.name), .integer(row.count)], mode: row.mode))
                : .upsert(EntityReference("account", keys: ["accountnumber": .string(row.key)]),
                          fields: ["name": .string(row.name), "numberofemployees": .integer(row.count)], mode: row.mode)
        }
    }

    private func describe(_ response: ServiceResponse) -> String {
        guard case .batch(let faulted, let items) = response else { return "\(response)" }
        return "faulted=\(faulted) " + items.map { item in
            if let fault = item.fault { return "\(item.requestIndex): \(fault.code.value) \(fault.key ?? "-")" }
            if case .upserted(_, let created, let changed)? = item.response { return "\(item.requestIndex): \(created) \(changed)" }
            return "\(item.requestIndex): ?"
        }.joined(separator: "; ")
    }

    private func snapshot(_ store: EntityStore) throws -> [String] {
        guard case .records(let page) = try store.execute(.retrieveMultiple(Query(entity: "account"))) else { return [] }
        return page.records.map { record in
            ["accountnumber", "name", "numberofemployees", "versionnumber"].map { record[$0]?.displayText ?? "-" }.joined(separator: " ")
        }.sorted()
    }

    /// Loads `existing` one request at a time, then sends `batch` as one ExecuteMultiple, on two
    /// stores: positional upserts on one, `.upsert` on the other.
    private func check(existing: [String], batch: [Row], continueOnError: Bool = true,
                       file: StaticString = #filePath, line: UInt = #line) throws {
        var outcomes: [[String]] = []
        for positional in [false, true] {
            let store = try EntityStore(path: nil)
            try store.applySchemaFile(fixtureSchema)
            for key in existing {
                _ = try store.execute(requests([(key, "old \(key)", 1, .createOrUpdate)], positional: false)[0])
            }
            let response = try store.execute(.executeMultiple(requests(batch, positional: positional),
                                                              continueOnError: continueOnError, returnResponses: true))
            outcomes.append([describe(response)] + (try snapshot(store)) + ["version \(try store.currentVersion())"])
        }
        XCTAssertEqual(outcomes[1], outcomes[0], file: file, line: line)
    }

    private func keys(_ range: ClosedRange<Int>) -> [String] { range.map { String(format: "K%03d", $0) } }

    func test_sortedBatchWithChangesGapsAndNewKeysBetween() throws {
        var batch: [Row] = []
        for (index, key) in keys(1...40).enumerated() {
            if index % 7 == 3 { continue }  // rows the export no longer has (a gap of one)
            if (12...24).contains(index) { continue }  // a gap wider than the cursor looks ahead
            batch.append((key, index % 3 == 0 ? "new \(key)" : "old \(key)", 1, .createOrUpdate))
            if index % 10 == 5 { batch.append((key + "a", "inserted after \(key)", 2, .createOrUpdate)) }
        }
        batch.append(("K999", "appended", 3, .createOrUpdate))
        try check(existing: keys(1...40), batch: batch)
    }

    func test_reverseAndShuffledOrderWithRepeatedKeys() throws {
        let existing = keys(1...30)
        let reversed: [Row] = existing.reversed().map { ($0, "rev \($0)", 5, .createOrUpdate) }
        try check(existing: existing, batch: reversed)
        var generator = SystemRandomNumberGenerator()
        var shuffled: [Row] = existing.map { ($0, "shuffled \($0)", 6, .createOrUpdate) }
        shuffled.shuffle(using: &generator)
        // the same key again later in the batch, changed again, and once unchanged
        shuffled.insert(("K007", "again", 7, .createOrUpdate), at: 20)
        shuffled.insert(("K007", "again", 7, .createOrUpdate), at: 25)
        shuffled.insert(("K031", "new", 1, .createOrUpdate), at: 3)
        shuffled.insert(("K031", "new, changed", 1, .createOrUpdate), at: 4)
        try check(existing: existing, batch: shuffled)
    }

    func test_aBatchThatTurnsFromNoOrderToKeyOrder() throws {
        // shuffled keys make upserts go back to seeking; sorted ones after them follow again
        let existing = keys(1...200)
        var generator = SystemRandomNumberGenerator()
        var batch: [Row] = keys(1...100).map { ($0, "first \($0)", 1, .createOrUpdate) }
        batch.shuffle(using: &generator)
        batch += keys(101...200).enumerated().map { index, key in (key, index % 4 == 0 ? "second \(key)" : "old \(key)", 1, .createOrUpdate) }
        batch += [("K150", "again", 1, .createOrUpdate), ("K201", "new", 1, .createOrUpdate), ("K001", "last", 1, .createOrUpdate)]
        try check(existing: existing, batch: batch)
    }

    func test_keysCompareAsTheirColumnDoes() throws {
        // NOCASE folds ASCII letters only; prefixes sort before longer keys
        let existing = ["AB1", "K1", "K10", "K100", "Ä1", "k2"]
        let batch: [Row] = [
            ("ab1", "folded", 1, .createOrUpdate), ("aB1", "folded again", 1, .createOrUpdate),
            ("K1", "one", 1, .createOrUpdate), ("k10", "ten", 1, .createOrUpdate), ("K100", "old K100", 1, .createOrUpdate),
            ("K2", "two", 1, .createOrUpdate), ("ä1", "not folded", 1, .createOrUpdate), ("Ä1", "same", 1, .createOrUpdate),
            ("", "empty key", 1, .createOrUpdate),
        ]
        try check(existing: existing, batch: batch)
    }

    func test_modesAndFailuresInTheMiddleOfASortedBatch() throws {
        let existing = keys(1...12)
        for continueOnError in [true, false] {
            let batch: [Row] = [
                ("K001", "a", 1, .createOrUpdate), ("K002", "b", 1, .createOnly),  // exists: fails
                ("K003", "c", 1, .createOrUpdate), ("K003x", "d", 1, .updateOnly),  // missing: fails
                ("K004", "e", 1, .updateOnly), ("K005", "bad/key", 1, .createOrUpdate),
                ("K0/6", "f", 1, .createOrUpdate),  // a character keys cannot hold
                ("K007", "g", 1, .createOrUpdate), ("K013", "h", 1, .createOnly),
            ]
            try check(existing: existing, batch: batch, continueOnError: continueOnError)
        }
    }

    func test_aBatchInsideATransactionAndOneThatFails() throws {
        for positional in [false, true] {
            let store = try EntityStore(path: nil)
            try store.applySchemaFile(fixtureSchema)
            for key in keys(1...5) { _ = try store.execute(requests([(key, "old", 1, .createOrUpdate)], positional: false)[0]) }
            // a transaction that fails after upserts that followed the cursor is rolled back whole
            let rows: [Row] = [("K001", "x", 2, .createOrUpdate), ("K002", "y", 2, .createOrUpdate), ("K002", "z", 2, .createOnly)]
            XCTAssertThrowsError(try store.execute(.executeTransaction(requests(rows, positional: positional), returnResponses: true)))
            XCTAssertEqual(try snapshot(store).map { $0.split(separator: " ")[1] }, Array(repeating: "'old'", count: 5),
                           "positional \(positional)")
            // and the next batch starts over from a fresh cursor
            let next = try store.execute(.executeMultiple(requests([("K001", "after", 3, .createOrUpdate), ("K005", "after", 3, .createOrUpdate)],
                                                                   positional: positional), continueOnError: false, returnResponses: true))
            XCTAssertEqual(describe(next), "faulted=false 0: false true; 1: false true")
        }
    }

    /// The cursor is reset when a write ends: left open, it would hold its connection's read
    /// snapshot, and a later batch would not see (nor be allowed to write after) another
    /// connection's changes.
    func test_aLaterBatchSeesAnotherConnectionsWrites() throws {
        let path = try temporaryStorePath()
        let first = try EntityStore(path: path)
        try first.applySchemaFile(fixtureSchema)
        let setUp: [Row] = keys(1...10).map { ($0, "old", 1, .createOrUpdate) }
        _ = try first.execute(.executeMultiple(requests(setUp, positional: true), continueOnError: false, returnResponses: false))
        // a batch that leaves the cursor on K003, with K004 next
        let before: [Row] = keys(1...3).map { ($0, "old", 1, .createOrUpdate) }
        _ = try first.execute(.executeMultiple(requests(before, positional: true), continueOnError: false, returnResponses: false))
        let second = try EntityStore(path: path)
        _ = try second.execute(requests([("K004", "from the other connection", 1, .createOrUpdate)], positional: false)[0])
        let after = try first.execute(.executeMultiple(requests([("K004", "from the other connection", 1, .createOrUpdate),
                                                                 ("K005", "changed", 1, .createOrUpdate)], positional: true),
                                                       continueOnError: false, returnResponses: true))
        XCTAssertEqual(describe(after), "faulted=false 0: false false; 1: false true")
        try second.close()
        try first.close()
    }
}
