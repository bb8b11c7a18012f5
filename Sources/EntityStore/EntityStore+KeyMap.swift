import EntityModel
import Foundation
import GRDB
import GRDBSQLite
import KeyTables

/// Every value of one single-column text key of a table with its record's id, read in one
/// scan: what a bulk load's lookups need once they keep missing the lookup cache.
///
/// Keys are held exactly as stored, so a hit is the record SQLite would find; a miss (another
/// spelling, a new record, a bad value) falls back to the SQL path, which decides and reports.
final class LookupKeyMap {
    let column: String
    private let table: ByteKeyTable
    /// The ids made last, by entry (direct-mapped on the entry's offset): a bulk load names
    /// the same few regions and owners row after row, and their ids are then not formatted
    /// and allocated again for every row. Touched only on the store's write path (one thread).
    private var recent: [(entry: Int, id: RecordID)?]
    static let recentSlots = 1024

    init(column: String, table: ByteKeyTable) {
        self.column = column
        self.table = table
        recent = Array(repeating: nil, count: Self.recentSlots)
    }

    /// The id stored with `text`, or nil.
    func id(for text: String) -> RecordID? {
        guard let entry = table.find(text) else { return nil }
        let slot = entry & (Self.recentSlots - 1)
        if let known = recent[slot], known.entry == entry { return known.id }
        let id = table.withPayload(of: entry) { RecordID(bytes: $0) }
        recent[slot] = (entry, id)
        return id
    }
}

extension EntityStore {
    /// Misses (SQL lookups of one target during writes) before a key map is considered: small
    /// targets (regions, owners) are then answered from a map rather than the lookup cache's
    /// dictionary.
    static let keyMapFirstCheck = 16
    /// A key map is read once the misses reach 1/16 of the target's rows: the scan then costs
    /// at most about as much as the misses so far did, and every later lookup is a hash probe.
    static let keyMapRowsPerMiss = 16
    /// Targets with more rows than this keep to the SQL path (a map costs ~65 bytes a row).
    static let keyMapRowLimit = 2_000_000

    /// Counts a lookup that went to SQL and, when the target's lookups by `column` keep
    /// missing, reads the key map that answers the following ones. A large target's map is
    /// read apart from the first check on (`KeyMapRead`): the write path goes on with SQL
    /// lookups meanwhile and takes the map when it is ready, or waits for it once the misses
    /// have cost as much as reading it here would.
    func noteLookupMiss(_ target: EntityTable, column: String, _ db: Database) throws {
        target.lookupMisses += 1
        let misses = target.lookupMisses
        // check at 16, 32, 64 … misses; the rows are counted once (until the target is written)
        guard target.keyMap == nil, misses >= Self.keyMapFirstCheck, misses & (misses - 1) == 0,
              target.singleColumnKeys[column] != nil,
              let attribute = target.attributeByName[column], attribute.type == .string || attribute.type == .memo
        else { return }
        let rows = try target.countedRows ?? Int.fetchOne(db.cachedStatement(sql: "SELECT count(*) FROM \(target.quotedTable)")) ?? 0
        target.countedRows = rows
        guard rows <= Self.keyMapRowLimit else { return }
        if rows <= misses * Self.keyMapRowsPerMiss {
            if let read = target.keyMapRead, read.column == column, let map = keyMap(from: read, target, waiting: true) {
                target.keyMap = map
            } else {
                target.keyMap = try readKeyMap(target, column: column, rows: rows, db)
            }
        } else if target.keyMapRead == nil, rows >= keyMapReadApartMinimumRows, let file = Self.fileName(db),
                  target.lastWrite <= committedWriteCount {
            // (a target written since the last commit is not read apart: another connection
            // cannot see those writes)
            target.keyMapRead = KeyMapRead(path: file, sql: keyMapSQL(target, column: column), rows: rows, column: column,
                                           epoch: lookupCacheEpoch, writeMark: target.lastWrite)
            keyMapReads.started += 1
        }
    }

    /// The file the connection has open (its full path, as SQLite resolved it); nil for a
    /// store in memory or in a temporary file, which no other connection can open.
    static func fileName(_ db: Database) -> String? {
        guard let name = sqlite3_db_filename(db.sqliteConnection, "main"), name.pointee != 0 else { return nil }
        return String(cString: name)
    }

    /// The map a read apart produced, when it still holds what this connection sees: nothing
    /// written to the target and no cache emptied (a rollback, another connection's write, a
    /// schema change) since the read began. Nil while it runs (unless `waiting`) and when it
    /// failed or is stale; a finished read is let go either way.
    func keyMap(from read: KeyMapRead, _ target: EntityTable, waiting: Bool) -> LookupKeyMap? {
        guard waiting || read.isFinished else { return nil }
        target.keyMapRead = nil
        guard let table = read.take(), read.epoch == lookupCacheEpoch, read.writeMark == target.lastWrite else {
            keyMapReads.dropped += 1
            return nil
        }
        keyMapReads.used += 1
        return LookupKeyMap(column: read.column, table: table)
    }

    /// Reads `column` and the primary key of every row. Values a key may not hold (SPEC §1
    /// rule 11) are left out, so looking them up still fails on the SQL path.
    private func readKeyMap(_ target: EntityTable, column: String, rows: Int, _ db: Database) throws -> LookupKeyMap {
        var map = Self.emptyKeyMap(rows: rows)
        var id = [UInt8](repeating: 0, count: 16)
        try RawStatement.forEachRawRow(db, db.makeStatement(sql: keyMapSQL(target, column: column)), []) { raw in
            Self.addKeyMapRow(raw, to: &map, id: &id)
        }
        return LookupKeyMap(column: column, table: map)
    }

    /// The scan a key map is read with: the key column and the primary key of every row with a key.
    func keyMapSQL(_ target: EntityTable, column: String) -> String {
        // NOT INDEXED: walking the key's index would seek each row in the table for its id
        // (random reads); one pass over the table reads both columns in page order (7× faster)
        "SELECT \(quoteIdentifier(column)), \(quoteIdentifier(target.primaryKey)) FROM \(target.quotedTable) NOT INDEXED WHERE \(quoteIdentifier(column)) IS NOT NULL"
    }

    /// A map with room for `rows` keys of up to 64 bytes (e-mail addresses, codes), so the
    /// arena is not copied as it fills.
    static func emptyKeyMap(rows: Int) -> ByteKeyTable {
        ByteKeyTable(payloadSize: 16, capacity: rows, keyLength: 64)
    }

    /// Adds the key and id of the row `raw` (of `keyMapSQL`) is on, unless the key holds a
    /// character keys may not hold or the id is not a GUID.
    static func addKeyMapRow(_ raw: SQLiteStatement, to map: inout ByteKeyTable, id: inout [UInt8]) {
        guard let key = RawStatement.textBytes(raw, 0), let idText = RawStatement.textBytes(raw, 1),
              !containsForbiddenKeyCharacter(key), parseGUID(idText, into: &id)
        else { return }
        id.withUnsafeBytes { _ = map.insert(key, payload: $0) }
    }

    /// Parses a 36-character GUID (hex digits in either case, dashes at 8, 13, 18 and 23) into
    /// 16 bytes; false when it is not one. A million of these make a key map: one table
    /// lookup per digit, and the bytes written in place.
    static func parseGUID(_ text: UnsafeRawBufferPointer, into bytes: inout [UInt8]) -> Bool {
        guard text.count == 36, text[8] == dash, text[13] == dash, text[18] == dash, text[23] == dash else { return false }
        return bytes.withUnsafeMutableBufferPointer { out in
            hexDigits.withUnsafeBufferPointer { digits in
                var offset = 0
                var invalid: UInt8 = 0
                for index in 0..<16 {
                    if offset == 8 || offset == 13 || offset == 18 || offset == 23 { offset += 1 }
                    let high = digits[Int(text[offset])], low = digits[Int(text[offset + 1])]
                    invalid |= (high | low) & 0x10
                    out[index] = high << 4 | (low & 0x0F)
                    offset += 2
                }
                return invalid == 0
            }
        }
    }

    private static let dash = UInt8(ascii: "-")

    /// Each byte's value as a hex digit, or 0x10 when it is not one.
    private static let hexDigits: [UInt8] = (0...255).map { byte -> UInt8 in
        switch UInt8(byte) {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return UInt8(byte) - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return UInt8(byte) - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return UInt8(byte) - UInt8(ascii: "A") + 10
        default: return 0x10
        }
    }
}
