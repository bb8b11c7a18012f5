import CSQLiteShims
import EntityModel
import Foundation
import GRDB
import Synchronization

/// A key of the lookup cache: a single-column key as the request gave it (column and value).
struct LookupCacheKey: Hashable {
    let column: String
    let value: FieldValue
}

/// The Dataverse-semantics data service on one SQLite file (or in memory).
///
/// Requests run on one serial `DatabaseQueue`, and the id generator and lookup cache are only
/// touched inside its closures. The catalog of compiled entity tables is also read outside
/// them, so it sits behind a lock. That is what makes the class safe to share.
public final class EntityStore: DataService, @unchecked Sendable {
    let queue: DatabaseQueue
    private let catalogLock = NSLock()
    private var catalogStorage: [String: EntityTable] = [:]
    /// The compiled tables by entity name (a copy-on-write snapshot under the lock).
    var catalog: [String: EntityTable] {
        get { catalogLock.withLock { catalogStorage } }
        set {
            catalogLock.withLock {
                catalogStorage = newValue
                catalogGeneration.add(1, ordering: .sequentiallyConsistent)
            }
        }
    }
    /// Counts catalog changes, so a table found once can be reused until the next change.
    let catalogGeneration = Atomic<Int>(0)
    var idGenerator = SequentialIDGenerator()
    /// Lookup targets resolved by a single-column key, per target entity. An entry is only
    /// added after SQLite found the row, and the cache is dropped whenever it could be stale:
    /// per entity when that entity is written; entirely when a write rolls back, when the
    /// catalog changes, and when another connection has changed the file (`PRAGMA data_version`).
    /// The entries live on each `EntityTable`; bumping this epoch empties them all at once.
    var lookupCacheEpoch = 0
    /// Entries the cache may hold per entity before it is emptied (bounds memory).
    static let lookupCacheLimit = 100_000
    /// `PRAGMA data_version` when the cache was last known to be current.
    var lookupCacheDataVersion: Int64?
    /// The catalog's stamp (`SystemTables.catalogStamp`) when it was last loaded.
    var catalogStamp: Int64 = 0
    /// Writes to entity tables so far, and their count when the last transaction committed: a
    /// table whose `lastWrite` is past it has writes other connections cannot see yet.
    var writeCount = 0
    var committedWriteCount = 0
    /// Targets of at least this many rows have their key map read apart (`KeyMapRead`; tests lower it).
    var keyMapReadApartMinimumRows = 16_384
    /// Key maps read apart: started, then used or dropped (tests read these).
    var keyMapReads = (started: 0, used: 0, dropped: 0)
    /// Upserts of a row found unchanged from the values as given, with nothing encoded
    /// (`unchangedID`; tests read it).
    var unchangedAsGiven = 0
    /// True once the connection's page cache has its full size (`growPageCacheForWrites`).
    var hasWritePageCache = false
    /// Expanded lookups of the change feed whose target has at least this many rows are
    /// joined into the page's statement; smaller targets are read once per page (tests lower it).
    var expandJoinMinimumRows: Int64 = 50_000
    /// True while a write runs; reads never use the lookup cache.
    var isWriting = false
    /// Statements the write path holds by reference (`keptStatement`), so that no SQL text is
    /// hashed per row to find them in GRDB's cache; finalized before the store closes. Touched
    /// only inside database closures.
    private var keptStatements: [String: Statement] = [:]
    /// Upsert cursors left open within the current write (`KeyOrderCursor`); reset when it ends.
    var openCursors: [KeyOrderCursor] = []
    /// The clock; tests move it to exercise token expiry.
    public var clock: @Sendable () -> Date = { Date() }
    /// Days a change token stays valid and tombstones are kept (`ExpireChangeTrackingInDays`).
    public var changeRetentionDays: Int = 7
    /// The store's location (nil when in memory).
    public let path: String?

    /// Opens (or creates) a store; nil path = in memory. A new store gets the starter schema.
    /// - Throws: `store.unavailable` when the file cannot be opened as a cdsync store.
    public init(path: String?) throws {
        self.path = path
        _ = Self.sqliteConfigured
        var configuration = Configuration()
        configuration.prepareDatabase { db in
            // a connection starts with the page cache reads need, and gets the whole of it at
            // its first write that revisits pages (see growPageCacheForWrites)
            try db.execute(sql: "PRAGMA cache_size = -\(Self.readPageCacheKiB)")
            // Checkpoint the WAL every ~160 MB rather than every 4 MB: a bulk load rewrites the
            // same index pages in many transactions, and a later checkpoint copies each only once
            // (10,000 → 40,000 pages: N = 1,000,000 initial 25.9 s → 24.5 s, delta 12.7 s → 12.2 s,
            // back to back)
            try db.execute(sql: "PRAGMA wal_autocheckpoint = 40000")
            // Keep the log file at the size one checkpoint interval fills (~165 MB), rather than
            // cutting it back after each checkpoint: the log's frames are 4,120 bytes, so each
            // straddles two file blocks, and a frame written past the file's end makes ext4
            // zero-fill its new blocks first; overwriting the blocks of a log it kept does not.
            // (The log is removed when the store closes.)
            try db.execute(sql: "PRAGMA journal_size_limit = \(Self.walSizeLimit)")
        }
        // a writer waiting for another's lock tries again every millisecond for 10 s (SQLite's
        // own timeout backs off to 100 ms tries, and would miss the moment a long run leaves
        // the lock free between its groups: `GroupCommit`)
        configuration.busyMode = .callback { tries in
            guard tries < Self.busyTries, !Self.stopsWaiting() else { return false }
            usleep(1_000)
            return true
        }
        configuration.allowsUnsafeTransactions = true
        do {
            if let path {
                queue = try DatabaseQueue(path: path, configuration: configuration)
                try queue.writeWithoutTransaction { db in
                    try db.execute(sql: "PRAGMA journal_mode = WAL")
                    try db.execute(sql: "PRAGMA synchronous = NORMAL")
                }
            } else {
                queue = try DatabaseQueue(configuration: configuration)
            }
            // a store that is already set up opens with reads only: a run writing meanwhile
            // holds the write lock most of the time, and opening must not wait for it
            if try !queue.read({ db in try SystemTables.isCurrent(db) }) {
                // another program's database is left as it is, not given cdsync's tables
                let foreign = try queue.read { db in try SystemTables.foreignTables(db) }
                if !foreign.isEmpty {
                    let shown = foreign.prefix(5).joined(separator: ", ") + (foreign.count > 5 ? ", …" : "")
                    throw ServiceError(.notAStore, "\(path ?? ":memory:") is an SQLite database with tables of its own (\(shown)), "
                                       + "not a cdsync store; nothing was changed. Give a new file or a cdsync store.")
                }
                try queue.write { db in try SystemTables.create(db) }
            }
            try loadCatalog()
            if catalog.isEmpty {
                try applySchema(StarterSchema.entities)
            }
            try purgeExpiredTombstones()
        } catch let error as ServiceError {
            throw error
        } catch let error as DatabaseError where [.SQLITE_NOTADB, .SQLITE_CORRUPT].contains(error.resultCode.primaryResultCode) {
            // damaged or another kind of file: not worth retrying (a scheduler retries `store.unavailable`)
            throw ServiceError(.notAStore, "\(path ?? ":memory:") is not a cdsync store, or it is damaged (SQLite: \(error.message ?? "\(error.resultCode)")); "
                               + "restore it from a backup, or give another file.")
        } catch let error as DatabaseError {
            throw ServiceError(.storeUnavailable, "Cannot open the store at \(path ?? ":memory:"): \(error.message ?? "\(error)") (SQLite \(error.resultCode.rawValue))\(Self.hint(error.resultCode))")
        } catch {
            throw ServiceError(.storeUnavailable, "Cannot open the store at \(path ?? ":memory:"): \(error)")
        }
    }

    /// What to do about a SQLite failure that is not the request's fault, when it says little.
    static func hint(_ code: ResultCode) -> String {
        switch code.primaryResultCode {
        case .SQLITE_BUSY:
            return "; another process (a run, `cdsync serve`, a REPL, a schema apply) held the store's write lock past the 10 s a write waits (or a signal ended the wait): try again"
        case .SQLITE_READONLY:
            return "; the store, its directory or its -wal/-shm files are read-only for this user (files another user's command created?)"
        case .SQLITE_CANTOPEN:
            return "; the file or its directory cannot be opened or created (a missing directory, no permission, a read-only file system): "
                + "SQLite also creates the store's -wal and -shm files beside it"
        default: return ""
        }
    }

    /// True when waiting for a busy store should end now (SIGINT/SIGTERM asked the process to
    /// stop: it should not wait out the rest of the 10 s first). Set once, at start-up.
    nonisolated(unsafe) public static var stopsWaiting: @Sendable () -> Bool = { false }

    /// Tries of a busy store before a write gives up: 10,000 of ~1 ms, about 10 s.
    static let busyTries: Int32 = 10_000

    /// The size SQLite cuts the log back to after a checkpoint: a little over what
    /// `wal_autocheckpoint` (40,000 frames of 4,120 bytes) lets it fill.
    static let walSizeLimit = 192 * 1024 * 1024

    /// SQLite's page cache per connection: 64 MiB, or `$CDSYNC_SQLITE_CACHE_MB` (16 to 4096).
    static let pageCacheKiB: Int = {
        guard let text = ProcessInfo.processInfo.environment["CDSYNC_SQLITE_CACHE_MB"], let megabytes = Int(text),
              (16...4096).contains(megabytes) else { return 65_536 }
        return megabytes * 1024
    }()

    /// The page cache of a connection that has not created, updated or upserted yet: 16 MiB
    /// (or less, with a smaller `pageCacheKiB`). Reads and deletes mostly visit each page once
    /// (a change feed, a key scan, scattered deletes), and every page the cache grows by is
    /// memory touched for the first time: the benchmark's extract peaked at 89 MB instead of
    /// 147 MB and ran ~0.15 s faster (1.43 → 1.28 s), its delete phase ~0.17 s faster.
    static let readPageCacheKiB = min(pageCacheKiB, 16_384)

    /// Gives the connection the whole page cache at its first write that revisits pages (see
    /// `revisitsPages`; called by `perform`): index pages and pages dirtied by several rows
    /// are used again, and a bulk load's changes then outgrow the cache less often. Other
    /// writes (deletes, schema changes, the store's own records) keep the reading cache.
    func growPageCacheForWrites(_ db: Database) throws {
        guard !hasWritePageCache else { return }
        try db.execute(sql: "PRAGMA cache_size = -\(Self.pageCacheKiB)")
        hasWritePageCache = true
    }

    /// Process-wide SQLite settings, applied once before the first connection opens.
    private static let sqliteConfigured: Int32 = cdsync_sqlite_configure()

    /// Reloads entity definitions from the store.
    func loadCatalog() throws {
        try queue.read { db in try loadCatalog(db) }
    }

    /// Reloads entity definitions with `db`, and notes the catalog's stamp they have.
    func loadCatalog(_ db: Database) throws {
        let stamp = try SystemTables.catalogStamp(db)
        let definitions = try SystemTables.loadDefinitions(db)
        // new compiled tables start with empty lookup caches, so nothing cached survives a reload
        catalog = Dictionary(definitions.map { ($0.name, EntityTable($0)) }, uniquingKeysWith: { _, last in last })
        catalogStamp = stamp
    }

    /// The compiled table of an entity.
    /// - Throws: `0x8006088a` when the entity does not exist.
    func table(_ entity: String) throws -> EntityTable {
        // one entry under the lock, not a copy of the whole catalog (this runs several times per write)
        guard let table = catalogLock.withLock({ catalogStorage[entity] }) else {
            throw ServiceError(.resourceNotFound, "The entity '\(entity)' does not exist.", entity: entity)
        }
        return table
    }

    /// The target table of a lookup: on the write path, the column's last target while the
    /// catalog is unchanged (no lock, no hashing of the name); otherwise `table(_:)`.
    func lookupTarget(_ entity: String, for column: EntityTable.Column?) throws -> EntityTable {
        guard isWriting, let column else { return try table(entity) }
        // the generation is read before the table, so a table found during a change is looked up again next time
        let generation = catalogGeneration.load(ordering: .sequentiallyConsistent)
        if let last = column.lastTarget, last.generation == generation, last.table.name == entity { return last.table }
        let target = try table(entity)
        column.lastTarget = (generation, target)
        return target
    }

    /// Runs `body` in one write transaction (a savepoint inside the run's transaction, when
    /// one is open); everything it did is rolled back if it throws.
    func write<T>(_ body: (WriteContext) throws -> T) throws -> T {
        try Self.mappingStoreErrors { try queue.writeWithoutTransaction { db in
            var result: T?
            let topLevel = !db.isInsideTransaction
            let work: () throws -> Database.TransactionCompletion = {
                // open cursors are reset before the transaction or savepoint ends
                defer { self.resetCursors() }
                if topLevel { try self.checkLookupCache(db) }
                let context = WriteContext(db: db, now: self.clock())
                result = try body(context)
                try context.finish()
                return .commit
            }
            let outer = self.isWriting
            self.isWriting = true
            defer { self.isWriting = outer }
            do {
                if db.isInsideTransaction {
                    try db.inSavepoint(work)
                } else {
                    try db.inTransaction(.immediate, work)
                    self.noteCommitted()
                }
            } catch {
                self.clearLookupCache()
                throw error
            }
            return result!
        } }
    }

    /// Forgets cached lookup resolutions of an entity: after any write to it (`written`), or
    /// when the whole cache was emptied.
    func invalidateLookups(_ table: EntityTable, written: Bool = true) {
        if written {
            writeCount &+= 1
            table.lastWrite = writeCount
        }
        if !table.lookupCache.isEmpty { table.lookupCache.removeAll() }
        table.keyMap = nil
        table.lookupMisses = 0
        table.countedRows = nil
        if let read = table.keyMapRead {
            read.cancel()
            table.keyMapRead = nil
            keyMapReads.dropped += 1
        }
    }

    /// Notes that the outermost transaction committed: every write so far is visible to
    /// other connections.
    func noteCommitted() {
        committedWriteCount = writeCount
    }

    /// Forgets every cached lookup resolution (after a rollback, or another connection's write).
    func clearLookupCache() {
        lookupCacheEpoch &+= 1
    }

    /// Empties the lookup cache when another connection changed the file since it was filled.
    /// Called at the start of each write transaction, which holds the write lock from then on.
    func checkLookupCache(_ db: Database) throws {
        let version = try Int64.fetchOne(db.cachedStatement(sql: "PRAGMA data_version")) ?? 0
        if version != lookupCacheDataVersion {
            clearLookupCache()
            lookupCacheDataVersion = version
            // another connection committed: if it applied a schema, this one takes it up
            // before it writes or reads with the definitions it had (limits, keys, entities)
            if try SystemTables.catalogStamp(db) != catalogStamp { try loadCatalog(db) }
        }
    }

    /// SQLite failures that are not a request's fault (busy, I/O, full disk) become
    /// `store.unavailable`, a temporary failure; constraint errors were mapped earlier.
    static func mappingStoreErrors<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let error as DatabaseError {
            throw ServiceError(.storeUnavailable, "The store failed: \(error.message ?? error.description) (SQLite \(error.resultCode.rawValue))\(hint(error.resultCode))")
        }
    }

    /// Runs `body` in one read transaction (inside the run's transaction, when one is open,
    /// so a run reads its own uncommitted writes).
    func read<T>(_ body: (Database) throws -> T) throws -> T {
        try Self.mappingStoreErrors { try queue.inDatabase { db in
            if db.isInsideTransaction { return try body(db) }
            var result: T?
            try db.inTransaction(.deferred) {
                try checkLookupCache(db)
                result = try body(db)
                return .commit
            }
            return result!
        } }
    }

    /// Closes the connection; SQLite then checkpoints the WAL into the database file and
    /// removes it, so a run leaves no write-ahead log behind. Nothing may use the store afterwards.
    /// - Throws: `store.unavailable` when SQLite cannot close it.
    public func close() throws {
        try Self.mappingStoreErrors {
            // kept statements would keep SQLite from closing the connection
            queue.inDatabase { _ in
                keptStatements.removeAll()
                for table in catalog.values {
                    table.keyMapRead?.cancelAndWait()
                    table.keyMapRead = nil
                }
            }
            try queue.close()
        }
    }

    /// The statement in `slot` (a weak reference held by a table or plan), else the kept one
    /// for `sql`, else `sql` prepared now and kept (one per SQL text) until the store closes.
    /// For statements run once per row on the write path.
    func keptStatement(_ db: Database, _ sql: String, _ slot: inout Statement?) throws -> Statement {
        if let statement = slot { return statement }
        if let statement = keptStatements[sql] {
            slot = statement
            return statement
        }
        let statement = try db.makeStatement(sql: sql)
        keptStatements[sql] = statement
        slot = statement
        return statement
    }

    /// The definitions of all entities, sorted by name.
    public func entityDefinitions() throws -> [EntityDefinition] {
        try takeUpOtherSchemaChanges()
        return catalog.values.map(\.definition).sorted { $0.name < $1.name }
    }

    /// The definition of one entity.
    /// - Throws: `0x8006088a` when it does not exist.
    public func definition(of entity: String) throws -> EntityDefinition {
        try takeUpOtherSchemaChanges()
        return try table(entity).definition
    }

    /// Reloads the definitions when another connection applied a schema since (the check
    /// every read makes; inside this connection's own transaction nobody else can have).
    private func takeUpOtherSchemaChanges() throws {
        try read { _ in }
    }

    /// The number of rows of an entity.
    public func count(_ entity: String) throws -> Int {
        let table = try table(entity)
        return try read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM \(table.quotedTable)") ?? 0 }
    }

    /// SQLite's `PRAGMA integrity_check` result: `["ok"]` for a sound file.
    public func integrityCheck() throws -> [String] {
        try read { db in try String.fetchAll(db, sql: "PRAGMA integrity_check") }
    }

    /// The current store-wide version.
    public func currentVersion() throws -> Int64 {
        try read { db in try StoreMeta.integer(db, "version") ?? 0 }
    }

    /// Executes one request.
    /// - Throws: `ServiceError` with the Dataverse code of the failure.
    public func execute(_ request: ServiceRequest) throws -> ServiceResponse {
        switch request {
        case .retrieve(let reference, let columns):
            return .record(try retrieve(reference, columns: columns))
        case .retrieveMultiple(let query):
            return .records(try runQuery(query))
        case .retrieveChanges(let changesRequest):
            return .changes(try changes(changesRequest))
        case .executeMultiple(let requests, let continueOnError, let returnResponses):
            return try executeMultiple(requests, continueOnError: continueOnError, returnResponses: returnResponses)
        case .executeTransaction(let requests, let returnResponses):
            return try executeTransaction(requests, returnResponses: returnResponses)
        default:
            return try write { context in try perform(request, context) }
        }
    }
}
