import EntityModel
import GRDB
import GRDBSQLite

extension EntityStore: RunTransactionSupport {
    /// Opens one transaction for a whole run; requests then run in savepoints inside it.
    /// - Throws: `0x80040203` when one is already open; `store.unavailable` when SQLite refuses.
    public func beginRunTransaction() throws {
        try queue.writeWithoutTransaction { db in
            guard !db.isInsideTransaction else {
                throw ServiceError(.invalidArgument, "A run transaction is already open.")
            }
            do {
                try db.beginTransaction(.immediate)
                do { try checkLookupCache(db) } catch {
                    try? db.rollback()
                    throw error
                }
            } catch {
                throw ServiceError(.storeUnavailable, "Cannot begin the run's transaction: \(error)")
            }
        }
    }

    /// True while a transaction is open on the store's connection.
    public var isRunTransactionOpen: Bool {
        queue.inDatabase { $0.isInsideTransaction }
    }

    /// True when SQLite spilled dirty pages of the open transaction since the last call
    /// (`SQLITE_DBSTATUS_CACHE_SPILL`, reset on read).
    public func runTransactionOutgrewCache() -> Bool {
        queue.inDatabase { db -> Bool in
            guard let connection = db.sqliteConnection else { return false }
            var current: Int32 = 0, highwater: Int32 = 0
            guard sqlite3_db_status(connection, SQLITE_DBSTATUS_CACHE_SPILL, &current, &highwater, 1) == SQLITE_OK else { return false }
            return current > 0
        }
    }

    /// Commits (or rolls back) the run's transaction. A failed commit rolls everything back.
    /// - Throws: `store.unavailable` when the commit fails.
    public func endRunTransaction(commit: Bool) throws {
        try queue.writeWithoutTransaction { db in
            guard db.isInsideTransaction else {
                // SQLite rolls a transaction back by itself after some failures (full disk, I/O error)
                guard !commit else {
                    clearLookupCache()
                    throw ServiceError(.storeUnavailable, "The store rolled the open transaction back after an error; none of its writes were kept.")
                }
                return
            }
            if !commit { clearLookupCache() }
            if commit {
                do { try db.commit() } catch {
                    clearLookupCache()
                    try? db.rollback()
                    // (a group of batches or an --atomic run: what the transaction held is lost, not
                    // necessarily everything the run wrote)
                    throw ServiceError(.storeUnavailable, "The store could not commit: \(error)")
                }
                noteCommitted()
            } else {
                try db.rollback()
            }
        }
    }
}
