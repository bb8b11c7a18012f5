import EntityModel
import Foundation
import GRDBSQLite
import XCTest

@testable import EntityStore

/// The store's default VFS writes each WAL frame's header and page as one write
/// (Sources/CSQLiteShims/wal_merge_vfs.c). What it writes must be exactly a WAL that SQLite's
/// own VFS recovers: a store copied mid-run, with its log not yet checkpointed, opens with the
/// plain `unix` VFS and holds every committed row.
final class WalMergeVFSTests: XCTestCase {
    func test_storesOpenThroughTheMergingVFS() throws {
        _ = try EntityStore(path: nil)
        XCTAssertEqual(sqlite3_vfs_find(nil).map { String(cString: $0.pointee.zName) }, "cdsync-wal-merge")
    }

    func test_aLogWrittenThroughItIsRecoveredByTheStandardVFS() throws {
        let path = try temporaryStorePath()
        let store = try EntityStore(path: path)
        defer { try? store.close() }
        let shape = RowShape(keyColumns: ["accountnumber"], fieldColumns: ["name", "description"])
        for batch in 0..<8 {
            let rows = (0..<250).map { index -> ServiceRequest in
                let number = batch * 250 + index
                return .upsertRow(RowUpsert(entity: "account", shape: shape, keyValues: [.string("W\(number)")],
                                            values: [.string("Name \(number)"), .string(String(repeating: "x", count: number % 700))],
                                            mode: .createOrUpdate))
            }
            _ = try store.execute(.executeMultiple(rows, continueOnError: false, returnResponses: false))
        }
        // the rows are committed to the log, which no checkpoint has copied into the file yet
        let log = try FileManager.default.attributesOfItem(atPath: path + "-wal")[.size] as? Int ?? 0
        XCTAssertGreaterThan(log, 100 * 4120, "the writes should still be in the log")
        let copy = try temporaryStorePath()
        try FileManager.default.copyItem(atPath: path, toPath: copy)
        try FileManager.default.copyItem(atPath: path + "-wal", toPath: copy + "-wal")

        var connection: OpaquePointer?
        XCTAssertEqual(sqlite3_open_v2(copy, &connection, SQLITE_OPEN_READWRITE, "unix"), SQLITE_OK)
        defer { sqlite3_close(connection) }
        func text(_ sql: String) -> String? {
            var statement: OpaquePointer?
            guard sqlite3_prepare_v2(connection, sql, -1, &statement, nil) == SQLITE_OK else { return nil }
            defer { sqlite3_finalize(statement) }
            guard sqlite3_step(statement) == SQLITE_ROW, let value = sqlite3_column_text(statement, 0) else { return nil }
            return String(cString: value)
        }
        XCTAssertEqual(text("PRAGMA integrity_check"), "ok")
        XCTAssertEqual(text("SELECT count(*) FROM account WHERE accountnumber LIKE 'W%'"), "2000")
        XCTAssertEqual(text("SELECT name || '/' || length(description) FROM account WHERE accountnumber = 'W1999'"), "Name 1999/599")
    }
}
