import Foundation
import GRDB
import GRDBSQLite

/// Follows a batch of upserts through a table in the order of their key, for a key of one
/// text column: a full export sorted by its key (the usual next-day file) then costs one step
/// of an index scan per record instead of a seek from the index's root.
///
/// The cursor is a `SELECT … WHERE key >= ? ORDER BY key` left open between the upserts of
/// one write (`EntityStore.write`, which resets it before its transaction or savepoint ends).
/// Each upsert looks a few rows ahead of where the last one stopped; a key before the
/// cursor, a key further ahead, or one not found there makes it seek again, so any order is
/// correct and only sorted input is faster. Writes of the batch itself (an update of the row
/// just read, an insert of a new key) happen while the scan is open: SQLite keeps the
/// cursor's place across them, and a row is only used when its key equals the one wanted.
final class KeyOrderCursor {
    let sql: String
    /// The key column's position in the SELECT list (the table's stored columns).
    let keyColumn: Int32
    /// The statement, while the store keeps it (`EntityStore.keptStatement`).
    weak var statement: Statement?

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

    init(sql: String, keyColumn: Int32) {
        self.sql = sql
        self.keyColumn = keyColumn
    }
}

extension EntityStore {
    /// Rows a cursor steps ahead for a key before it seeks instead (rows the export no
    /// longer has are skipped this way).
    static let cursorFollowRows = 4

    /// Positions `cursor` on the row whose key equals `key` (SQLite's NOCASE, as the key's
    /// column compares): true when it is on that row, false when the table has no such key,
    /// nil when the cursor cannot tell (a NUL byte in a key, where NOCASE stops comparing) and
    /// the caller should look the key up as usual.
    func positionCursor(_ db: Database, _ cursor: KeyOrderCursor, at key: String) throws -> Bool? {
        var key = key
        return try key.withUTF8 { wanted -> Bool? in
            if let base = wanted.baseAddress, memchr(base, 0, wanted.count) != nil { return nil }
            if cursor.statement == nil { cursor.state = .idle }  // a new statement has not stepped
            let statement = try cursor.statement ?? keptStatement(db, cursor.sql, &cursor.statement)
            let raw = statement.sqliteStatement
            var moves = 0
            follow: while moves <= Self.cursorFollowRows {
                switch cursor.state {
                case .idle, .done:
                    break follow
                case .used:
                    try stepCursor(db, cursor, raw)
                    moves += 1
                case .onRow:
                    guard let order = Self.compareKey(raw, cursor.keyColumn, wanted) else { return nil }
                    if order == 0 { return true }
                    if order > 0 { break follow }
                    try stepCursor(db, cursor, raw)
                    moves += 1
                }
            }
            sqlite3_reset(raw)
            // (SQLite copies the bytes; an empty key still needs an address: nil would bind NULL)
            if let base = wanted.baseAddress {
                sqlite3_bind_text(raw, 1, UnsafeRawPointer(base).assumingMemoryBound(to: CChar.self), Int32(wanted.count),
                                  unsafeBitCast(-1, to: sqlite3_destructor_type.self))
            } else {
                sqlite3_bind_text(raw, 1, "", 0, unsafeBitCast(-1, to: sqlite3_destructor_type.self))
            }
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
            let message = db.sqliteConnection.flatMap { sqlite3_errmsg($0) }.map { String(cString: $0) }
            throw DatabaseError(resultCode: ResultCode(rawValue: code), message: message, sql: cursor.sql)
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
