import EntityModel
import Foundation
import GRDB

/// State of one write transaction: the database, the store-wide version counter, and the clock.
final class WriteContext {
    let db: Database
    let now: Date
    private var version: Int64?
    private var versionDirty = false
    /// Set by a write that runs without a savepoint of its own (a delete in a batch) just
    /// before its first statement that changes the store: a failure after that is not the
    /// request's alone, and fails its whole batch (`EntityStore.executeMultiple`).
    var requestHasWritten = false

    init(db: Database, now: Date) {
        self.db = db
        self.now = now
    }

    /// Milliseconds since 1970 for `createdon`/`modifiedon`.
    var nowMillis: Int64 { Int64((now.timeIntervalSince1970 * 1000).rounded()) }

    /// The next store-wide version (strictly increasing across the store).
    func nextVersion() throws -> Int64 {
        let current = try version ?? StoreMeta.integer(db, "version") ?? 0
        guard current < Int64.max else {
            throw ServiceError(.notAStore, "The store's version counter (\(StoreMeta.table) 'version') is at its largest value: the store is damaged.")
        }
        version = current + 1
        versionDirty = true
        return current + 1
    }

    /// Persists the counter; called before commit.
    func finish() throws {
        if versionDirty, let version {
            try StoreMeta.setInteger(db, "version", version)
        }
    }
}

/// The store's own key/value table.
enum StoreMeta {
    static let table = "_cdsync_meta"

    static func integer(_ db: Database, _ key: String) throws -> Int64? {
        try Int64.fetchOne(db.cachedStatement(sql: "SELECT value FROM \(table) WHERE key = ?"), arguments: [key])
    }

    static func setInteger(_ db: Database, _ key: String, _ value: Int64) throws {
        try db.cachedStatement(sql: "INSERT INTO \(table)(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value")
            .execute(arguments: [key, value])
    }
}
