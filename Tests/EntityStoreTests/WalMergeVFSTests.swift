import CSQLiteShims
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
        XCTAssertGreaterThan(try logSize(path), 100 * 4120, "the writes should still be in the log")
        let reader = try recoveredCopy(of: path)
        XCTAssertEqual(try reader.text("PRAGMA integrity_check"), "ok")
        XCTAssertEqual(try reader.text("SELECT count(*) FROM account WHERE accountnumber LIKE 'W%'"), "2000")
        XCTAssertEqual(try reader.text("SELECT name || '/' || length(description) FROM account WHERE accountnumber = 'W1999'"), "Name 1999/599")
    }

    /// A transaction bigger than the page cache writes frames before it commits. Those are
    /// written up to the last whole 4 KiB block (ext4 zero-fills the rest of a block a write
    /// covers only in part); the commit frame writes everything, and the log is then exactly
    /// what SQLite's own VFS recovers. (In exclusive locking mode SQLite takes no WAL locks, so
    /// nothing but the commit frame writes the held end of the transaction.)
    func test_framesOfAnUnfinishedTransactionGoDownInWholeBlocks() throws {
        let path = try temporaryStorePath()
        let writer = try RawConnection(path, vfs: "cdsync-wal-merge")
        try writer.run("PRAGMA locking_mode = EXCLUSIVE; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA cache_size = 16")
        try writer.run("CREATE TABLE t(id INTEGER PRIMARY KEY, body BLOB)")
        try writer.run("BEGIN")
        try writer.run("INSERT INTO t WITH RECURSIVE n(value) AS (SELECT 1 UNION ALL SELECT value + 1 FROM n WHERE value < 3000) SELECT value, randomblob(700) FROM n")
        let during = try logSize(path)
        XCTAssertGreaterThan(during, 50 * 4120, "the transaction should have spilled frames to the log")
        XCTAssertEqual(during % 4096, 0, "frames of an unfinished transaction should end on a block boundary")
        try writer.run("COMMIT")
        XCTAssertEqual((try logSize(path) - 32) % 4120, 0, "a commit should leave whole frames")

        let reader = try recoveredCopy(of: path)
        XCTAssertEqual(try reader.text("PRAGMA integrity_check"), "ok")
        XCTAssertEqual(try reader.text("SELECT count(*) || '/' || sum(length(body)) FROM t"), "3000/2100000")
    }

    /// What a rolled-back transaction left held is written before its connection gives up the
    /// write lock: written any later, it would land on frames the next writer committed.
    func test_aRolledBackTransactionLeavesNothingToOverwriteTheNextWritersFrames() throws {
        let path = try temporaryStorePath()
        let first = try RawConnection(path, vfs: "cdsync-wal-merge")
        try first.run("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA cache_size = 16; CREATE TABLE t(id INTEGER PRIMARY KEY, body BLOB)")
        // with no committed frames in the log, rolling back reads nothing from it (a read
        // would write what is held first)
        try first.run("PRAGMA wal_checkpoint(TRUNCATE)")
        try first.run("BEGIN")
        try first.run("INSERT INTO t WITH RECURSIVE n(value) AS (SELECT 1 UNION ALL SELECT value + 1 FROM n WHERE value < 3000) SELECT value, zeroblob(700) FROM n")
        try first.run("ROLLBACK")

        // the next writer's frames start where the rolled-back ones did, and reach past them
        let second = try RawConnection(path, vfs: "unix")
        try second.run("INSERT INTO t WITH RECURSIVE n(value) AS (SELECT 1 UNION ALL SELECT value + 1 FROM n WHERE value < 4000) SELECT value, randomblob(700) FROM n")
        XCTAssertEqual(try first.text("SELECT count(*) FROM t"), "4000")  // a read on the first connection
        try first.close()

        let reader = try recoveredCopy(of: path)
        XCTAssertEqual(try reader.text("PRAGMA integrity_check"), "ok")
        XCTAssertEqual(try reader.text("SELECT count(*) || '/' || sum(length(body)) || '/' || sum(body = zeroblob(700)) FROM t"), "4000/2800000/0")
    }

    /// Checkpoints write the database file's pages in runs (up to each 64 KiB boundary) that
    /// go down before anything can observe the file: the same statements through the merging
    /// VFS and through SQLite's own give the same contents, also with a reader of another
    /// connection in the middle of them (its snapshot holds back part of a checkpoint), reading
    /// through a memory mapping, and after a checkpoint that restarts the log.
    func test_checkpointRunsLeaveTheSameDatabaseAsSQLitesOwnVFS() throws {
        let merged = try temporaryStorePath(), plain = try temporaryStorePath()
        let runsBefore = cdsync_database_runs_written()
        var answers: [String: [String?]] = [:]
        for (path, vfs) in [(merged, "cdsync-wal-merge"), (plain, "unix")] {
            let writer = try RawConnection(path, vfs: vfs)
            let reader = try RawConnection(path, vfs: vfs)
            try writer.run("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA cache_size = 64; PRAGMA wal_autocheckpoint = 300")
            try writer.run("CREATE TABLE t(id INTEGER PRIMARY KEY, body BLOB, note TEXT); CREATE INDEX t_note ON t(note)")
            try reader.run("PRAGMA mmap_size = 268435456")
            var seen: [String?] = []
            for round in 0..<6 {
                // new rows (the file grows in runs), then changes scattered over the old ones
                try writer.run("INSERT INTO t(body, note) WITH RECURSIVE n(v) AS (SELECT 1 UNION ALL SELECT v + 1 FROM n WHERE v < 1500) SELECT zeroblob(300 + (v * 7 + \(round)) % 500), 'n' || ((v * 13 + \(round)) % 997) FROM n")
                try writer.run("UPDATE t SET note = note || 'x', body = zeroblob(length(body) + 1) WHERE id % \(7 + round) = 0")
                if round == 2 { try reader.run("BEGIN; SELECT count(*) FROM t") }  // holds its snapshot through a checkpoint
                try writer.run("PRAGMA wal_checkpoint(PASSIVE)")
                seen.append(try reader.text("SELECT count(*) || '/' || sum(length(body)) || '/' || count(DISTINCT note) FROM t"))
                if round == 3 { try reader.run("COMMIT") }
            }
            try writer.run("PRAGMA wal_checkpoint(TRUNCATE)")
            seen.append(try reader.text("SELECT count(*) || '/' || sum(length(body)) || '/' || sum(length(note)) FROM t"))
            try reader.close()
            try writer.close()
            // the file alone (no log left): what a fresh connection of SQLite's own VFS reads
            let check = try RawConnection(path, vfs: "unix")
            seen.append(try check.text("PRAGMA integrity_check"))
            seen.append(try check.text("SELECT count(*) || '/' || sum(length(body)) || '/' || sum(length(note)) FROM t"))
            answers[vfs] = seen
        }
        XCTAssertEqual(answers["cdsync-wal-merge"], answers["unix"])
        XCTAssertEqual(answers["unix"]?[answers["unix"]!.count - 2], "ok")
        XCTAssertGreaterThan(cdsync_database_runs_written() - runsBefore, 10, "pages should have gone down in runs")
    }

    /// A copy of the store and its log, opened with SQLite's plain `unix` VFS: it recovers the
    /// log as written, so it holds exactly what the log's bytes commit.
    private func recoveredCopy(of path: String) throws -> RawConnection {
        let copy = try temporaryStorePath()
        try FileManager.default.copyItem(atPath: path, toPath: copy)
        try FileManager.default.copyItem(atPath: path + "-wal", toPath: copy + "-wal")
        return try RawConnection(copy, vfs: "unix")
    }

    private func logSize(_ path: String) throws -> Int {
        try FileManager.default.attributesOfItem(atPath: path + "-wal")[.size] as? Int ?? 0
    }

    /// SQLite spills a statement or savepoint journal that outgrows memory (16 MiB here,
    /// `SQLITE_CONFIG_STMTJRNL_SPILL`) in writes of that size, and the unix VFS writes at most
    /// 128 KiB per call (it reported SQLITE_FULL, and the benchmark's delete phase failed). The
    /// VFS writes larger amounts in pieces: a 1 MiB write through it reads back whole.
    func test_writesLargerThanTheUnixVFSTakesGoDownInPieces() throws {
        _ = try EntityStore(path: nil)  // configures SQLite and registers the VFS
        let vfs = try XCTUnwrap(sqlite3_vfs_find("cdsync-wal-merge"))
        let file = UnsafeMutableRawPointer.allocate(byteCount: Int(vfs.pointee.szOsFile), alignment: 16)
            .assumingMemoryBound(to: sqlite3_file.self)
        defer { file.deallocate() }
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_EXCLUSIVE | SQLITE_OPEN_DELETEONCLOSE | SQLITE_OPEN_SUBJOURNAL
        var outFlags: Int32 = 0
        XCTAssertEqual(vfs.pointee.xOpen(vfs, nil, file, flags, &outFlags), SQLITE_OK)
        let methods = try XCTUnwrap(file.pointee.pMethods)
        defer { _ = methods.pointee.xClose(file) }
        let written = (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 9) }
        XCTAssertEqual(written.withUnsafeBytes { methods.pointee.xWrite(file, $0.baseAddress, Int32($0.count), 4096) }, SQLITE_OK)
        var size: sqlite3_int64 = 0
        XCTAssertEqual(methods.pointee.xFileSize(file, &size), SQLITE_OK)
        XCTAssertEqual(size, 4096 + (1 << 20))
        var read = [UInt8](repeating: 0, count: 1 << 20)
        XCTAssertEqual(read.withUnsafeMutableBytes { methods.pointee.xRead(file, $0.baseAddress, Int32($0.count), 4096) }, SQLITE_OK)
        XCTAssertTrue(read == written, "the bytes read back differ from those written")
    }
}

/// A connection through SQLite's C API with a chosen VFS, closed when released.
private final class RawConnection {
    private var handle: OpaquePointer?

    init(_ path: String, vfs: String) throws {
        _ = try EntityStore(path: nil)  // configures SQLite and registers the merging VFS
        guard sqlite3_open_v2(path, &handle, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, vfs) == SQLITE_OK else {
            throw RawError(message: "open \(path): \(String(cString: sqlite3_errmsg(handle)))")
        }
    }

    deinit { sqlite3_close(handle) }

    func close() throws {
        guard sqlite3_close(handle) == SQLITE_OK else { throw RawError(message: "close") }
        handle = nil
    }

    func run(_ sql: String) throws {
        guard sqlite3_exec(handle, sql, nil, nil, nil) == SQLITE_OK else {
            throw RawError(message: "\(sql): \(String(cString: sqlite3_errmsg(handle)))")
        }
    }

    func text(_ sql: String) throws -> String? {
        var statement: OpaquePointer?
        guard sqlite3_prepare_v2(handle, sql, -1, &statement, nil) == SQLITE_OK else {
            throw RawError(message: "\(sql): \(String(cString: sqlite3_errmsg(handle)))")
        }
        defer { sqlite3_finalize(statement) }
        guard sqlite3_step(statement) == SQLITE_ROW, let value = sqlite3_column_text(statement, 0) else { return nil }
        return String(cString: value)
    }

    struct RawError: Error { let message: String }
}
