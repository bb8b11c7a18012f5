import Foundation
import GRDB
import GRDBSQLite

/// Follows a batch of upserts through a table in the order of their key, for a key of one
/// text column: a full export sorted by its key (the usual next-day file) then costs one step
/// of an index scan per record instead of a seek from the index's root.
///
/// The cursor is a `SELECT … WHERE key >= ? ORDER BY key` left open between the upserts of
/// one write (`EntityStore.write`, which resets it before its transaction or savepoint ends).
/// An upsert whose key comes right after the last one's steps to the next row: that row has
/// the key, or (being the next key in the index) shows that no row has it. Any other key
/// seeks; after two keys in a row that following did not find, upserts go back to the keyed
/// SELECT and try the cursor again every 32 keys, so a batch in no particular order costs
/// what it did. Writes of the batch itself (an update of the row just read, an insert of a
/// new key) happen while the scan is open: SQLite keeps the cursor's place across them, and a
/// row is only used when its key equals the one wanted.
final class KeyOrderCursor {
    let sql: String
    /// The key column's position in the SELECT list (the table's stored columns).
    let keyColumn: Int32
    /// The statement, while the store keeps it (`EntityStore.keptStatement`).
    weak var statement: Statement?
    /// Its SQLite handle, as `positionCursor` last found it (valid while `statement` is kept;
    /// read right after positioning, so a row's upsert loads the weak reference once).
    var raw: SQLiteStatement?

    enum State {
        /// Reset: the next lookup seeks.
        case idle
        /// On a row no upsert has used yet.
        case onRow
        /// On the row the last upsert used.
        case used
        /// Past the last row.
        case done
    }
    var state = State.idle
    /// Keys in a row the cursor did not find by following (`EntityStore.cursorMisses`), and
    /// lookups since it stopped following.
    var misses = 0
    var skipped = 0

    init(sql: String, keyColumn: Int32) {
        self.sql = sql
        self.keyColumn = keyColumn
    }
}

extension EntityStore {
    /// Keys in a row not found by following the cursor before upserts go back to seeking each
    /// key with the keyed SELECT (a batch that is not in key order: following would only add
    /// steps), and how many lookups later the cursor is tried again.
    static let cursorMisses = 2
    static let cursorRetryInterval = 32

    /// Positions `cursor` on the row whose key equals `keyValue` (SQLite's NOCASE, as the key's
    /// column compares): true when it is on that row, false when the table has no such key,
    /// nil when the caller should look the key up with the keyed SELECT (a key that is not
    /// text, keys not arriving in order, or a NUL byte in a key, where NOCASE stops comparing).
    func positionCursor(_ db: Database, _ cursor: KeyOrderCursor, at keyValue: DatabaseValue) throws -> Bool? {
        guard case .string(var key) = keyValue.storage else { return nil }
        return try key.withUTF8 { wanted -> Bool? in
            if let base = wanted.baseAddress, memchr(base, 0, wanted.count) != nil { return nil }
            if cursor.misses >= Self.cursorMisses {
                cursor.skipped += 1
                guard cursor.skipped >= Self.cursorRetryInterval else { return nil }
                // try following again: one seek, and the next key decides
                cursor.skipped = 0
                cursor.misses = Self.cursorMisses - 1
                cursor.state = .idle
            }
            let raw: SQLiteStatement
            if let kept = cursor.statement {
                raw = kept.sqliteStatement
            } else {
                cursor.state = .idle  // a new statement has not stepped
                raw = try keptStatement(db, cursor.sql, &cursor.statement).sqliteStatement
            }
            cursor.raw = raw
            var followed = false
            switch cursor.state {
            case .onRow:
                // where the last seek or step stopped: the key itself, in a batch in key order
                guard let order = Self.compareKey(raw, cursor.keyColumn, wanted) else { return nil }
                if order == 0 { cursor.misses = 0; return true }
                followed = true
            case .used:
                // the next row, when the key comes after the one just used
                guard let order = Self.compareKey(raw, cursor.keyColumn, wanted) else { return nil }
                if order < 0 {
                    try stepCursor(db, cursor, raw)
                    // nothing after the used row, or a row past the key: no row has the key
                    if cursor.state == .done { cursor.misses = 0; return false }
                    guard let next = Self.compareKey(raw, cursor.keyColumn, wanted) else { return nil }
                    if next >= 0 { cursor.misses = 0; return next == 0 }
                }
                followed = true
            case .idle, .done:
                break
            }
            // only keys that following missed count: a seek after a reset or past the end does not
            if followed {
                cursor.misses += 1
                if cursor.misses >= Self.cursorMisses {
                    cursor.skipped = 0
                    return nil
                }
            }
            sqlite3_reset(raw)
            RawStatement.bind(raw, keyValue, at: 1)
            if !openCursors.contains(where: { $0 === cursor }) { openCursors.append(cursor) }
            try stepCursor(db, cursor, raw)
            guard cursor.state == .onRow else { return false }
            guard let order = Self.compareKey(raw, cursor.keyColumn, wanted) else { return nil }
            return order == 0
        }
    }

    private func stepCursor(_ db: Database, _ cursor: KeyOrderCursor, _ raw: SQLiteStatement) throws {
        switch sqlite3_step(raw) {
        case SQLITE_ROW: cursor.state = .onRow
        case SQLITE_DONE: cursor.state = .done
        case let code:
            cursor.state = .idle
            sqlite3_reset(raw)
            throw RawStatement.error(db, sql: cursor.sql, code)
        }
    }

    /// Resets every cursor left open (before a write's transaction or savepoint ends).
    func resetCursors() {
        for cursor in openCursors {
            if let statement = cursor.statement { sqlite3_reset(statement.sqliteStatement) }
            cursor.state = .idle
        }
        openCursors.removeAll(keepingCapacity: true)
    }

    /// The current row's key compared with `wanted` as SQLite's NOCASE does (ASCII letters
    /// folded, then bytes, then length); nil for a key that is not text or holds a NUL byte.
    static func compareKey(_ raw: SQLiteStatement, _ column: Int32, _ wanted: UnsafeBufferPointer<UInt8>) -> Int? {
        guard sqlite3_column_type(raw, column) == SQLITE_TEXT, let current = RawStatement.textBytes(raw, column) else { return nil }
        if let base = current.baseAddress, memchr(base, 0, current.count) != nil { return nil }
        for index in 0..<min(current.count, wanted.count) {
            let left = foldCase(current[index]), right = foldCase(wanted[index])
            if left != right { return Int(left) - Int(right) }
        }
        return current.count - wanted.count
    }

    @inline(__always)
    private static func foldCase(_ byte: UInt8) -> UInt8 {
        byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte + 32 : byte
    }
}
