import EntityModel
@testable import EntityStore
import Foundation
import XCTest

/// Opening a store that is set up needs no write lock: a run holding a write transaction
/// (group commit keeps one open nearly all the time) must not keep others from opening it.
final class OpenWhileWritingTests: XCTestCase {
    func test_aSetUpStoreOpensAndReadsWhileAnotherConnectionHoldsAWriteTransaction() throws {
        let path = try temporaryStorePath()
        let writer = try EntityStore(path: path)
        try writer.createAccount("A1")
        _ = try writer.execute(.delete(account("A1"), ifVersion: nil))  // a fresh tombstone: nothing to purge
        try writer.beginRunTransaction()
        try writer.createAccount("A2")  // inside the open transaction: not visible to others yet
        let started = Date()
        let reader = try EntityStore(path: path)
        XCTAssertLessThan(Date().timeIntervalSince(started), 5, "opening waited for the writer's lock")
        XCTAssertEqual(try reader.count("account"), 0)
        try writer.endRunTransaction(commit: true)
        XCTAssertEqual(try reader.count("account"), 1)
        try reader.close()
        try writer.close()
    }

    /// A store kept open (a long run, `serve`, a REPL) takes up a schema another process
    /// applied meanwhile before its next write or read: shorter lengths, new required
    /// columns, new keys and new entities are all in force, as after a restart.
    func test_aSchemaAppliedByAnotherConnectionIsInForceAtTheNextWriteAndRead() throws {
        let path = try temporaryStorePath()
        let kept = try EntityStore(path: path)
        try kept.applySchemaFile("""
            entities:
              - name: new_gadget
                attributes: [ { name: new_label, type: string, max_length: 10 }, { name: new_code, type: string, max_length: 10 } ]
            """)
        _ = try kept.execute(.create(entity: "new_gadget", id: nil, fields: ["new_label": .string("12345678"), "new_code": .string("C1")]))
        let other = try EntityStore(path: path)
        try other.applySchemaFile("""
            entities:
              - name: new_gadget
                attributes: [ { name: new_label, type: string, max_length: 8 }, { name: new_code, type: string, max_length: 10 } ]
                keys: [ { name: ak_code, columns: [new_code] } ]
              - name: new_widget
                attributes: [ { name: new_size, type: integer, min_value: 0, max_value: 10 } ]
            """)
        // the definitions a store gives out (serve's routing, `.describe`) are the new ones
        XCTAssertTrue(try kept.entityDefinitions().contains { $0.name == "new_widget" })
        XCTAssertEqual(try kept.definition(of: "new_gadget").attribute("new_label")?.maxLength, 8)
        assertServiceError(.stringTooLong) {
            try kept.execute(.create(entity: "new_gadget", id: nil, fields: ["new_label": .string("123456789")]))
        }
        assertServiceError(.duplicateRecordEntityKey) {
            try kept.execute(.create(entity: "new_gadget", id: nil, fields: ["new_code": .string("C1")]))
        }
        _ = try kept.execute(.upsert(EntityReference("new_gadget", key: "new_code", value: .string("C2")), fields: [:], mode: .createOrUpdate))
        assertServiceError(.invalidArgument) { try kept.execute(.create(entity: "new_widget", id: nil, fields: ["new_size": .integer(11)])) }
        _ = try kept.execute(.create(entity: "new_widget", id: nil, fields: ["new_size": .integer(3)]))
        XCTAssertEqual(try kept.runQuery(Query(entity: "new_widget")).records.count, 1)
        // and a store that only reads sees the new entity too
        let reader = try EntityStore(path: path)
        try other.applySchemaFile("""
            entities:
              - name: new_thing
                attributes: [ { name: new_x, type: string, max_length: 5 } ]
            """)
        XCTAssertEqual(try reader.runQuery(Query(entity: "new_thing")).records.count, 0)
    }
}

/// The write path keeps its per-row statements prepared; closing the store must still close
/// SQLite's connection, which then checkpoints and removes the write-ahead log.
final class KeptStatementCloseTests: XCTestCase {
    func test_closingAfterWritesThroughKeptStatementsRemovesTheLogAndKeepsTheRows() throws {
        let path = try temporaryStorePath()
        let store = try EntityStore(path: path)
        let shape = RowShape(keyColumns: ["accountnumber"], fieldColumns: ["name"])
        let rows = (0..<50).map { ServiceRequest.upsertRow(RowUpsert(entity: "account", shape: shape, keyValues: [.string("K\($0)")],
                                                                      values: [.string("Name \($0)")], mode: .createOrUpdate)) }
        _ = try store.execute(.executeMultiple(rows, continueOnError: false, returnResponses: false))
        try store.createAccount("C1")
        _ = try store.execute(.executeMultiple(rows, continueOnError: false, returnResponses: false))  // unchanged: the kept SELECT again
        XCTAssertTrue(FileManager.default.fileExists(atPath: path + "-wal"))
        try store.close()
        XCTAssertFalse(FileManager.default.fileExists(atPath: path + "-wal"), "the connection did not close: the log is still there")
        let reopened = try EntityStore(path: path)
        XCTAssertEqual(try reopened.count("account"), 51)
        try reopened.close()
    }
}

/// The log is kept at the size one checkpoint interval fills, so later intervals overwrite its
/// blocks instead of extending the file (which ext4 zero-fills first, frame by frame).
final class LogSizeTests: XCTestCase {
    func test_theLogIsCutBackOnlyBelowWhatOneCheckpointIntervalFills() throws {
        let store = try EntityStore(path: try temporaryStorePath())
        defer { try? store.close() }
        let (limit, interval, pageSize) = try store.queue.inDatabase { db in
            (try Int.fetchOne(db, sql: "PRAGMA journal_size_limit") ?? 0, try Int.fetchOne(db, sql: "PRAGMA wal_autocheckpoint") ?? 0,
             try Int.fetchOne(db, sql: "PRAGMA page_size") ?? 0)
        }
        XCTAssertEqual(limit, EntityStore.walSizeLimit)
        // a frame is a 24-byte header and a page; the log starts with a 32-byte header
        let filled = 32 + interval * (24 + pageSize)
        XCTAssertGreaterThan(limit, filled, "\(interval) frames of \(pageSize)-byte pages fill \(filled) bytes")
        XCTAssertLessThan(limit, 2 * filled, "the log may stay large on disk; keep the limit near what an interval fills")
    }
}

/// A connection reads with a 16 MiB page cache and gets the whole 64 MiB at its first
/// create, update or upsert, alone or inside a run's transaction; deletes, reads and the
/// store's own records (a run's history, change tokens) leave it as it is.
final class PageCacheSizeTests: XCTestCase {
    func test_thePageCacheGrowsAtTheFirstWriteThatRevisitsPages() throws {
        for runTransaction in [false, true] {
            let path = try temporaryStorePath()
            do {
                let first = try EntityStore(path: path)  // a new store writes its starter schema
                for number in ["D1", "D2"] {
                    _ = try first.execute(.create(entity: "account", id: nil, fields: ["name": .string("A"), "accountnumber": .string(number)]))
                }
                try first.close()
            }
            let store = try EntityStore(path: path)
            defer { try? store.close() }
            func cacheKiB() throws -> Int { -(try store.queue.inDatabase { db in try Int.fetchOne(db, sql: "PRAGMA cache_size") ?? 0 }) }
            XCTAssertEqual(try cacheKiB(), EntityStore.readPageCacheKiB)
            _ = try store.execute(.retrieveMultiple(Query(entity: "account")))
            try store.saveToken(SavedToken(name: "t", token: "1!11/27/2026 10:00:00", entity: "account", updatedAt: Date()))
            if runTransaction { try store.beginRunTransaction() }
            _ = try store.execute(.executeMultiple([.delete(EntityReference("account", keys: ["accountnumber": .string("D1")]), ifVersion: nil)],
                                                   continueOnError: false, returnResponses: true))
            XCTAssertEqual(try cacheKiB(), 16_384, "reads, the store's own records and deletes keep the smaller cache")
            _ = try store.execute(.executeMultiple([.upsert(EntityReference("account", keys: ["accountnumber": .string("D2")]),
                                                            fields: ["name": .string("B")], mode: .createOrUpdate)],
                                                   continueOnError: false, returnResponses: true))
            XCTAssertEqual(try cacheKiB(), 65_536, "an upsert gets the whole cache")
            if runTransaction { try store.endRunTransaction(commit: true) }
            XCTAssertNil(try store.find(EntityReference("account", keys: ["accountnumber": .string("D1")])))
            XCTAssertEqual(try store.find(EntityReference("account", keys: ["accountnumber": .string("D2")]))?.fields["name"], .string("B"))
        }
    }
}
