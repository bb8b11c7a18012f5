import EntityModel
import GRDB
import XCTest

@testable import EntityStore

/// Deletes in an ExecuteMultiple run without a savepoint of their own
/// (`EntityStore.executeMultiple`): one that fails before it writes faults only itself; one
/// that fails after its first write fails the whole batch, and nothing of the batch is kept.
final class BatchDeleteTests: XCTestCase {
    func test_aDeleteFailingBeforeItWritesFaultsOnlyItself() throws {
        try forEachStore { store in
            try store.createAccount("A1")
            let response = try store.execute(.executeMultiple([
                .delete(EntityReference("account", keys: ["accountnumber": .string("MISSING")]), ifVersion: nil),
                .delete(EntityReference("account", keys: ["accountnumber": .string("A1")]), ifVersion: nil),
                .create(entity: "account", id: nil, fields: ["accountnumber": .string("N1")]),
            ], continueOnError: true, returnResponses: true))
            guard case .batch(let faulted, let items) = response else { return XCTFail("\(response)") }
            XCTAssertTrue(faulted)
            XCTAssertEqual(items.map { $0.fault?.code }, [.recordNotFoundByEntityKey, nil, nil])
            XCTAssertEqual(try store.count("account"), 1)  // N1
            let changes = try store.changes(ChangesRequest(entity: "account"))
            XCTAssertEqual(changes.changes.count, 1, "only N1 remains; a first sync lists no deletions")
        }
    }

    /// A tombstone that cannot be written (a trigger stands in for an I/O error) fails the
    /// delete after its row is gone: the whole batch fails and is rolled back, at the top level
    /// and inside a run's transaction, so no row is lost without its tombstone.
    func test_aDeleteFailingAfterItsFirstWriteFailsAndUndoesTheWholeBatch() throws {
        for insideRun in [false, true] {
            try forEachStore { store in
                try store.createAccount("A1")
                try store.createAccount("A2")
                try store.queue.write { db in
                    try db.execute(sql: """
                        CREATE TEMP TRIGGER no_tombstone BEFORE INSERT ON \(SystemTables.tombstones)
                        WHEN NEW.key LIKE '%A2%' BEGIN SELECT RAISE(ABORT, 'the disk is failing'); END
                        """)
                }
                if insideRun { try store.beginRunTransaction() }
                XCTAssertThrowsError(try store.execute(.executeMultiple([
                    .create(entity: "account", id: nil, fields: ["accountnumber": .string("N1")]),
                    .delete(EntityReference("account", keys: ["accountnumber": .string("A1")]), ifVersion: nil),
                    .delete(EntityReference("account", keys: ["accountnumber": .string("A2")]), ifVersion: nil),
                    .create(entity: "account", id: nil, fields: ["accountnumber": .string("N2")]),
                ], continueOnError: true, returnResponses: true))) { error in
                    XCTAssertTrue("\(error)".contains("the disk is failing"), "\(error)")
                }
                if insideRun { try store.endRunTransaction(commit: true) }
                let numbers = try store.queue.read { db in
                    try String.fetchAll(db, sql: "SELECT accountnumber FROM account ORDER BY accountnumber")
                }
                XCTAssertEqual(numbers, ["A1", "A2"], "inside a run: \(insideRun)")
                XCTAssertEqual(try store.queue.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM \(SystemTables.tombstones)") }, 0)
            }
        }
    }
}
