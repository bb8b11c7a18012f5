import Foundation
import GRDB
import GRDBSQLite
import KeyTables

/// Binding, stepping and reading prepared statements through SQLite's C API.
///
/// The hot paths (finding a row by key, resolving a lookup, inserting and updating a row)
/// use this instead of GRDB's `StatementArguments` and `Row`, whose generic conversions cost
/// more than the statement itself. The statements still come from GRDB (`cachedStatement`),
/// and these helpers run only inside the store's serialized database closures. Each helper
/// resets the statement when it is done, so a statement never stays open.
enum RawStatement {
    /// SQLite copies text it is given with this destructor.
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    /// Binds `values` to parameters 1…n.
    static func bind(_ statement: SQLiteStatement, _ values: [DatabaseValue]) {
        values.withUnsafeBufferPointer { buffer in
            for offset in buffer.indices { bind(statement, buffer[offset], at: Int32(offset + 1)) }
        }
    }

    /// Binds one value to a 1-based parameter.
    static func bind(_ statement: SQLiteStatement, _ value: DatabaseValue, at index: Int32) {
        switch value.storage {
        case .null: sqlite3_bind_null(statement, index)
        case .int64(let number): sqlite3_bind_int64(statement, index, number)
        case .double(let number): sqlite3_bind_double(statement, index, number)
        case .string(let text):
            // the UTF-8 bytes with their length: no C string to make and measure (SQLite copies them)
            // (an empty text needs an address of its own: a nil pointer would bind NULL)
            if text.isEmpty { sqlite3_bind_text(statement, index, "", 0, transient); return }
            // (stored text never holds NUL: `ValueCodec` refuses it, so nothing is cut short here)
            text.withUTF8Bytes { bytes in
                _ = sqlite3_bind_text(statement, index, bytes.baseAddress!.assumingMemoryBound(to: CChar.self),
                                      Int32(bytes.count), transient)
            }
        case .blob(let data):
            data.withUnsafeBytes { bytes in
                _ = sqlite3_bind_blob(statement, index, bytes.baseAddress, Int32(bytes.count), transient)
            }
        }
    }

    /// Runs a statement that returns no rows with `values` bound.
    /// - Throws: `DatabaseError` with SQLite's code and message (constraint failures included).
    static func execute(_ db: Database, _ statement: Statement, _ values: [DatabaseValue]) throws {
        // SQLite may roll a transaction back on its own (full disk, I/O error, out of memory);
        // a write must then fail rather than run, and commit, outside any transaction
        if let connection = db.sqliteConnection, sqlite3_get_autocommit(connection) != 0 {
            throw DatabaseError(resultCode: .SQLITE_ABORT, message: "the transaction was rolled back by SQLite; the write was not made", sql: statement.sql)
        }
        let raw = statement.sqliteStatement
        bind(raw, values)
        let code = sqlite3_step(raw)
        defer { sqlite3_reset(raw) }
        guard code == SQLITE_DONE || code == SQLITE_ROW else { throw error(db, statement, code) }
    }

    /// The first row's columns, in the statement's column order; nil when there is no row.
    /// With `mask`, only the columns it marks are read (SQLite decodes columns on demand, so the
    /// others cost nothing) and the rest are nil.
    static func fetchFirstRow(_ db: Database, _ statement: Statement, _ values: [DatabaseValue],
                              reading mask: [Bool]? = nil) throws -> [DatabaseValue?]? {
        try withFirstRow(db, statement, values) { raw in
            let count = sqlite3_column_count(raw)
        var row: [DatabaseValue?] = []
        row.reserveCapacity(Int(count))
            for index in 0..<count {
                if let mask, Int(index) < mask.count, !mask[Int(index)] { row.append(nil); continue }
                row.append(DatabaseValue(sqliteStatement: raw, index: index))
            }
            return row
        } ?? nil
    }

    /// Binds `values`, steps once and hands the statement, positioned on the first row, to
    /// `read`, which may throw; nil when there is no row. The statement is reset afterwards.
    static func withFirstRow<T>(_ db: Database, _ statement: Statement, _ values: [DatabaseValue],
                                _ read: (SQLiteStatement) throws -> T) throws -> T? {
        let raw = statement.sqliteStatement
        bind(raw, values)
        defer { sqlite3_reset(raw) }
        let code = sqlite3_step(raw)
        if code == SQLITE_DONE { return nil }
        guard code == SQLITE_ROW else { throw error(db, statement, code) }
        return try read(raw)
    }

    /// True when a column of the current row holds exactly `value`: NULL, the same integer, or
    /// text with the same bytes, read in place. False means "not known to be equal" (other
    /// types, or text that differs in bytes, which Swift may still find canonically equal): the
    /// caller then compares built values.
    static func column(_ raw: SQLiteStatement, _ index: Int32, isSurely value: DatabaseValue) -> Bool {
        let type = sqlite3_column_type(raw, index)
        switch value.storage {
        case .null:
            return type == SQLITE_NULL
        case .int64(let number):
            return type == SQLITE_INTEGER && sqlite3_column_int64(raw, index) == number
        case .string(let text):
            return column(raw, index, hasText: text)
        default:
            return false
        }
    }

    /// True when column `index` of the row holds exactly `text` as TEXT (with no NUL byte).
    static func column(_ raw: SQLiteStatement, _ index: Int32, hasText text: String) -> Bool {
        guard sqlite3_column_type(raw, index) == SQLITE_TEXT, let stored = textBytes(raw, index) else { return false }
        // stored text with a NUL byte reads back cut at the NUL as a built value: not "sure"
        return text.withUTF8Bytes { given in
            given.count == stored.count && (given.isEmpty || memcmp(given.baseAddress!, stored.baseAddress!, given.count) == 0)
                && (stored.isEmpty || memchr(stored.baseAddress!, 0, stored.count) == nil)
        }
    }

    /// The first column of the first row as text; nil when there is no row or it is NULL.
    static func fetchText(_ db: Database, _ statement: Statement, _ values: [DatabaseValue]) throws -> String? {
        try withFirstRow(db, statement, values) { raw in sqlite3_column_text(raw, 0).map { String(cString: $0) } } ?? nil
    }

    /// Calls `body` with the statement positioned on each row in turn, to read columns
    /// straight from SQLite (`sqlite3_column_text` and friends; valid only during the call).
    static func forEachRawRow(_ db: Database, _ statement: Statement, _ values: [DatabaseValue],
                              _ body: (SQLiteStatement) throws -> Void) throws {
        let raw = statement.sqliteStatement
        bind(raw, values)
        defer { sqlite3_reset(raw) }
        while true {
            let code = sqlite3_step(raw)
            if code == SQLITE_DONE { return }
            guard code == SQLITE_ROW else { throw error(db, statement, code) }
            try body(raw)
        }
    }

    /// An integer column of the current row.
    static func integer(_ raw: SQLiteStatement, _ index: Int32) -> Int64 { sqlite3_column_int64(raw, index) }

    /// The text of a column of the current row as bytes (no copy; valid until the next step); nil for NULL.
    static func textBytes(_ raw: SQLiteStatement, _ index: Int32) -> UnsafeRawBufferPointer? {
        guard let text = sqlite3_column_text(raw, index) else { return nil }
        return UnsafeRawBufferPointer(start: text, count: Int(sqlite3_column_bytes(raw, index)))
    }

    private static func error(_ db: Database, _ statement: Statement, _ code: Int32) -> DatabaseError {
        error(db, sql: statement.sql, code)
    }

    /// The error of a failed step of the statement `sql`, with SQLite's message.
    static func error(_ db: Database, sql: String, _ code: Int32) -> DatabaseError {
        let message = db.sqliteConnection.flatMap { sqlite3_errmsg($0) }.map { String(cString: $0) }
        return DatabaseError(resultCode: ResultCode(rawValue: code), message: message, sql: sql)
    }
}
