import CSQLiteShims
import EntityModel
import Foundation
import GRDB
import XCTest

@testable import EntityStore

/// The VFS starts writeback of what was written to a store file and its log every few
/// megabytes, instead of leaving it all to the next sync (Sources/CSQLiteShims/wal_merge_vfs.c,
/// `startWriteback`). It must start it, and must not change what the file holds.
final class WritebackTests: XCTestCase {
    private let rows = 3000

    /// With a 64 KiB chunk, writing ~4 MB of rows and checkpointing them starts writeback many
    /// times, and the store reads back every row intact after it is closed and opened again.
    func test_writebackStartsAsBytesAccumulateAndTheStoreReadsBackIntact() throws {
        cdsync_set_writeback_chunk(64 * 1024)
        defer { cdsync_set_writeback_chunk(4 * 1024 * 1024) }
        let path = try temporaryStorePath()
        let before = cdsync_writebacks_started()
        try writeAccounts(to: path, count: rows, prefix: "W", description: Self.description)
        // ~3 MB of frames into the log, and again into the file at close: dozens of 64 KiB chunks
        XCTAssertGreaterThan(cdsync_writebacks_started() - before, 40, "writeback should have been started as the rows were written")

        let store = try EntityStore(path: path)
        defer { try? store.close() }
        let (count, integrity) = try store.queue.read { db in
            (try Int.fetchOne(db, sql: "SELECT count(*) FROM account") ?? 0, try String.fetchOne(db, sql: "PRAGMA integrity_check"))
        }
        XCTAssertEqual(count, rows)
        XCTAssertEqual(integrity, "ok")
        for number in [0, 1, 1777, rows - 1] {
            let reference = EntityReference("account", key: "accountnumber", value: .string("W\(number)"))
            guard case .record(let record) = try store.execute(.retrieve(reference, columns: ["description"])) else {
                return XCTFail("W\(number) not found")
            }
            XCTAssertEqual(record.fields["description"], .string(Self.description(number)), "W\(number)")
        }
    }

    /// A chunk of 0 leaves writeback to the kernel and SQLite's syncs: none is started.
    func test_aZeroChunkStartsNoWriteback() throws {
        cdsync_set_writeback_chunk(0)
        defer { cdsync_set_writeback_chunk(4 * 1024 * 1024) }
        let before = cdsync_writebacks_started()
        try writeAccounts(to: try temporaryStorePath(), count: rows, prefix: "W", description: Self.description)
        XCTAssertEqual(cdsync_writebacks_started(), before)
    }

    private static func description(_ number: Int) -> String {
        String(repeating: String(UnicodeScalar(UInt8(97 + number % 26))), count: 700 + number % 700) + "#\(number)"
    }
}
