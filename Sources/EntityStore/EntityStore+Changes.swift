import CSQLiteShims
import EntityModel
import Foundation
import GRDB

extension EntityStore {
    /// Reads one page of changes since a token (SPEC §3): new and updated rows in version
    /// order with their latest values, then deletions; the new token comes on the last page.
    /// - Throws: `0x80072491` for an untracked entity; `0x80044352` for an expired, future or unreadable token.
    public func changes(_ request: ChangesRequest) throws -> EntityChanges {
        let table = try table(request.entity)
        guard table.definition.changeTracking else {
            throw ServiceError(.changeTrackingNotEnabled, "Entity \(table.name) isn't enabled for change tracking.", entity: table.name)
        }
        try checkColumns(request.columns, table)
        return try read { db in
            if request.tokenOnly {
                let current = try StoreMeta.integer(db, "version") ?? 0
                return EntityChanges(changes: [], moreRecords: false, pagingCookie: nil,
                                     dataToken: ChangeToken(version: current, issued: clock()).text)
            }
            let cursor = try cursor(for: request, db)
            try mapFile(db, true)
            defer { try? mapFile(db, false) }  // a mapping still in use stays until the next read; nothing is lost
            let pageSize = min(max(request.pageSize, 1), Self.maxPageSize)
            var items: [ChangeItem] = []
            var rows: RowPage?
            var deletedKeys: [RecordID: [String: String]] = [:]
            var last = cursor.last
            if cursor.phase == .rows {
                try checkExpand(request.expand, table)
                let projection = projection(columnsWithExpanded(request.columns, request.expand), table)
                let arguments = [cursor.last.databaseValue, cursor.watermark.databaseValue, (pageSize + 1).databaseValue]
                let page: RowPage
                if request.expand.isEmpty {
                    let sql = "SELECT \(projection.selectList) FROM \(table.quotedTable) WHERE versionnumber > ? AND versionnumber <= ? ORDER BY versionnumber LIMIT ?"
                    page = try rowPage(db, sql, arguments, table, projection, rowsExpected: pageSize + 1)
                } else {
                    page = try rowPage(db, table, projection, condition: "m.versionnumber > ? AND m.versionnumber <= ?",
                                       tail: "ORDER BY m.versionnumber LIMIT ?", arguments, rowsExpected: pageSize + 1,
                                       expand: request.expand)
                }
                // the rows as asked: one page of values, or a record each
                func delivered(_ page: RowPage) -> [ChangeItem] {
                    if request.asRowPage {
                        rows = page
                        return []
                    }
                    return page.records().map(ChangeItem.newOrUpdated)
                }
                if page.count > pageSize {
                    let lastVersion = Self.version(of: page, row: pageSize - 1)
                    var more = morePage(items: delivered(page.prefix(pageSize)), cursor.with(phase: .rows, last: lastVersion))
                    more.rows = rows
                    return more
                }
                items = delivered(page)
                last = cursor.since
            }
            if cursor.since >= 0 {
                let capacity = pageSize - items.count - (rows?.count ?? 0)
                let sql = """
                    SELECT version, id, key FROM \(SystemTables.tombstones) WHERE entity = ? AND version > ? AND version <= ?
                    AND id NOT IN (SELECT \(quoteIdentifier(table.primaryKey)) FROM \(table.quotedTable)) ORDER BY version LIMIT ?
                    """
                let tombstones = try Row.fetchAll(db, sql: sql, arguments: [table.name, last, cursor.watermark, capacity + 1])
                for row in tombstones.prefix(capacity) {
                    guard let text: String = row["id"], let id = RecordID(text) else { continue }
                    items.append(.removedOrDeleted(EntityReference(table.name, id: id)))
                    if let text: String = row["key"], let key = FlatJSONObject.object(text) {
                        deletedKeys[id] = key
                    }
                }
                if tombstones.count > capacity {
                    let lastVersion: Int64 = capacity > 0 ? tombstones[capacity - 1]["version"] : last
                    var page = morePage(items: items, cursor.with(phase: .deletions, last: lastVersion))
                    page.deletedKeys = deletedKeys
                    page.rows = rows
                    return page
                }
            }
            return EntityChanges(changes: items, moreRecords: false, pagingCookie: nil,
                                 dataToken: ChangeToken(version: cursor.watermark, issued: clock()).text, deletedKeys: deletedKeys, rows: rows)
        }
    }

    /// Turns reading through a memory mapping of the store file on or off. A page of changes
    /// visits rows scattered over the table and the rows they point at, a few page reads each
    /// and most of them outside SQLite's cache: read through a mapping, they cost no system
    /// call and no copy (the benchmark's extract: the store thread's system time 0.38 → 0.17 s).
    /// The mapping is only on while such a page is read, because it makes writes slower (a page
    /// read through the mapping is read again to change it), and the VFS keeps the pages it has
    /// mapped to ~128 MiB of the resident set (wal_merge_vfs.c).
    private func mapFile(_ db: Database, _ on: Bool) throws {
        guard path != nil, Self.canBoundMappedReads else { return }
        try db.execute(sql: "PRAGMA mmap_size = \(on ? Self.mappedReadBytes : 0)")
    }

    /// Where the VFS cannot bound mapped pages (no `/proc`), change reads keep to system calls
    /// rather than map a whole file.
    private static let canBoundMappedReads = cdsync_can_bound_mapped_reads() != 0

    /// How much of the store file a change read maps: SQLite's own limit on Linux (~2 GiB);
    /// pages beyond it are read with system calls as before.
    static let mappedReadBytes: Int64 = 0x7fff_0000

    private func morePage(items: [ChangeItem], _ cursor: ChangeCursor) -> EntityChanges {
        EntityChanges(changes: items, moreRecords: true, pagingCookie: cursor.text, dataToken: nil)
    }

    private static func version(of page: RowPage, row: Int) -> Int64 {
        if case .integer(let version)? = page.value(row: row, column: "versionnumber") { return version }
        return 0
    }

    private func cursor(for request: ChangesRequest, _ db: Database) throws -> ChangeCursor {
        let current = try StoreMeta.integer(db, "version") ?? 0
        let purged = try StoreMeta.integer(db, "purged_version") ?? 0
        if let cookie = request.pagingCookie, !cookie.isEmpty {
            // a cookie comes back from the client: one this store could not have made (a
            // watermark past its version, a start before its purged tombstones, which would
            // miss deletions) is refused like a malformed one
            guard let cursor = ChangeCursor(cookie), cursor.watermark <= current, cursor.since <= cursor.watermark,
                  cursor.since >= -1, cursor.last >= min(cursor.since, 0), cursor.last <= cursor.watermark else {
                throw ServiceError(.invalidArgument, "The paging cookie '\(cookie)' is not valid.", entity: request.entity)
            }
            if cursor.since >= 0 && cursor.since < purged {
                // tombstones it still needs were purged since its first page
                throw ServiceError(.expiredVersionStamp,
                    "Version stamp associated with the client has expired. Please perform a full sync.", entity: request.entity)
            }
            return cursor
        }
        guard let text = request.token, !text.isEmpty else {
            return ChangeCursor(watermark: current, since: -1, phase: .rows, last: 0)
        }
        // (a token issued more than a day ahead of this clock was not issued by it)
        let age = clock().timeIntervalSince(ChangeToken(text)?.issued ?? .distantPast)
        guard let token = ChangeToken(text), token.version <= current, token.version >= purged,
              age <= Double(changeRetentionDays) * 86_400, age >= -86_400 else {
            throw ServiceError(.expiredVersionStamp,
                "Version stamp associated with the client has expired. Please perform a full sync.", entity: request.entity)
        }
        return ChangeCursor(watermark: current, since: token.version, phase: .rows, last: token.version)
    }

    /// Deletes tombstones older than the retention window; tokens older than them then expire.
    public func purgeExpiredTombstones() throws {
        let cutoff = Int64((clock().timeIntervalSince1970 - Double(changeRetentionDays) * 86_400) * 1000)
        // looked for with a read first: most opens have nothing to purge and need no write lock
        let due = try read { db in
            try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM \(SystemTables.tombstones) WHERE deleted_at < ?)", arguments: [cutoff])
        } ?? false
        guard due else { return }
        try write { context in
            let db = context.db
            guard let newest = try Int64.fetchOne(db, sql: "SELECT max(version) FROM \(SystemTables.tombstones) WHERE deleted_at < ?",
                                                   arguments: [cutoff]) else { return }
            try db.execute(sql: "DELETE FROM \(SystemTables.tombstones) WHERE version <= ?", arguments: [newest])
            try StoreMeta.setInteger(db, "purged_version", max(newest, try StoreMeta.integer(db, "purged_version") ?? 0))
        }
    }
}

/// A change token: a store version and when it was issued, written `<version>!<MM/dd/yyyy HH:mm:ss>` (UTC).
public struct ChangeToken: Equatable, Sendable {
    /// The store version the token marks.
    public var version: Int64
    /// When it was issued.
    public var issued: Date

    private static let formatter: DateFormatter = {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "MM/dd/yyyy HH:mm:ss"
        return formatter
    }()

    /// Creates a token.
    public init(version: Int64, issued: Date) {
        self.version = version
        self.issued = issued
    }

    /// Parses token text; nil when it is not a token.
    public init?(_ text: String) {
        let parts = text.split(separator: "!", maxSplits: 1)
        guard parts.count == 2, let version = Int64(parts[0]), version >= 0,
              let issued = Self.formatter.date(from: String(parts[1])) else { return nil }
        self.init(version: version, issued: issued)
    }

    /// The token text.
    public var text: String { "\(version)!\(Self.formatter.string(from: issued))" }
}

/// Where a multi-page change read stands: the watermark fixed on page one, the token's
/// version (-1 for an initial sync, which returns no deletions), the phase, and the last version delivered.
struct ChangeCursor {
    enum Phase: String { case rows = "r", deletions = "d" }
    var watermark: Int64
    var since: Int64
    var phase: Phase
    var last: Int64

    init(watermark: Int64, since: Int64, phase: Phase, last: Int64) {
        self.watermark = watermark
        self.since = since
        self.phase = phase
        self.last = last
    }

    init?(_ text: String) {
        let parts = text.split(separator: ":")
        guard parts.count == 4, let watermark = Int64(parts[0]), let since = Int64(parts[1]),
              let phase = Phase(rawValue: String(parts[2])), let last = Int64(parts[3]) else { return nil }
        self.init(watermark: watermark, since: since, phase: phase, last: last)
    }

    var text: String { "\(watermark):\(since):\(phase.rawValue):\(last)" }

    func with(phase: Phase, last: Int64) -> ChangeCursor {
        ChangeCursor(watermark: watermark, since: since, phase: phase, last: last)
    }
}
