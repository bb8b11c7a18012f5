import Dispatch
import Foundation
import GRDBSQLite
import KeyTables
import Synchronization

/// A key map read on a thread and a read-only connection of its own, while the store's write
/// path goes on with SQL lookups (`EntityStore.noteLookupMiss`).
///
/// The connection sees the store as last committed, which is why a read starts only for a
/// target with no writes since the last commit, and its map is used only if the target has not
/// been written and no lookup cache emptied since (`EntityStore.keyMap(from:_:waiting:)`).
/// A read that fails, for whatever reason, gives no map: the SQL path answers as before.
///
/// Measured at N = 1,000,000 (the benchmark's delta, 500,000 contacts): read on the write path,
/// after the 32,768 SQL lookups that justify it, the map kept the script waiting for ~0.9 s at
/// the start of the run.
final class KeyMapRead: Sendable {
    /// The key column the map is by.
    let column: String
    /// The store's `lookupCacheEpoch` and the target's `lastWrite` when the read began.
    let epoch: Int
    let writeMark: Int
    private let cancelled = Atomic<Bool>(false)
    private let finished = Atomic<Bool>(false)
    private let outcome = Mutex<ByteKeyTable?>(nil)
    private let running = DispatchGroup()

    /// Called once a read has its first row, so holds its snapshot (tests use it to write while a read runs).
    static let testGate = Mutex<(@Sendable () -> Void)?>(nil)

    /// Starts reading `sql` (`EntityStore.keyMapSQL`) from the store file at `path`.
    init(path: String, sql: String, rows: Int, column: String, epoch: Int, writeMark: Int) {
        self.column = column
        self.epoch = epoch
        self.writeMark = writeMark
        running.enter()
        Thread.detachNewThread { [self] in
            defer {
                finished.store(true, ordering: .releasing)
                running.leave()
            }
            if let map = read(path: path, sql: sql, rows: rows) { outcome.withLock { $0 = map } }
        }
    }

    /// True once the read has ended (with a map or without).
    var isFinished: Bool { finished.load(ordering: .acquiring) }

    /// Waits for the read to end and hands over its map (nil when it failed or was cancelled).
    func take() -> ByteKeyTable? {
        running.wait()
        return outcome.withLock { map in
            defer { map = nil }
            return map
        }
    }

    /// Stops the read at its next thousand rows; its map, if any, is never used.
    func cancel() {
        cancelled.store(true, ordering: .relaxed)
    }

    /// Stops the read and waits for its thread to let go of the file.
    func cancelAndWait() {
        cancel()
        running.wait()
    }

    private func read(path: String, sql: String, rows: Int) -> ByteKeyTable? {
        var connection: OpaquePointer?
        defer { sqlite3_close_v2(connection) }
        guard sqlite3_open_v2(path, &connection, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nil) == SQLITE_OK,
              let connection else { return nil }
        // a scan visits each page once: a small page cache, and a short wait if SQLite is
        // busy recovering the log
        sqlite3_busy_timeout(connection, 1000)
        guard sqlite3_exec(connection, "PRAGMA cache_size = -2048", nil, nil, nil) == SQLITE_OK else { return nil }
        var statement: OpaquePointer?
        defer { sqlite3_finalize(statement) }
        guard sqlite3_prepare_v2(connection, sql, -1, &statement, nil) == SQLITE_OK, let statement else { return nil }
        var map = EntityStore.emptyKeyMap(rows: rows)
        var id = [UInt8](repeating: 0, count: 16)
        var count = 0
        while true {
            switch sqlite3_step(statement) {
            case SQLITE_ROW:
                count += 1
                if count == 1, let gate = Self.testGate.withLock({ $0 }) { gate() }
                if count & 1023 == 0, cancelled.load(ordering: .relaxed) { return nil }
                EntityStore.addKeyMapRow(statement, to: &map, id: &id)
            case SQLITE_DONE:
                return cancelled.load(ordering: .relaxed) ? nil : map
            default:
                return nil
            }
        }
    }
}
