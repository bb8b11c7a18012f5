import EntityModel
import GRDB
import KeyTables

extension EntityStore: KeyColumnScanning {
    /// Most ids bound to one `IN (…)` query when reading the missing rows back.
    private static let idsPerQuery = 500

    /// Keys handed to a key-set check at a time.
    static let keysPerCheck = 256

    /// Reads the primary key and `column` of every row in one statement; only the rows the
    /// caller does not know become records. See `KeyColumnScanning`.
    public func scanKeyColumn(entity: String, column: String, columns: [String], filter: FilterExpression?,
                              areKnown: (inout PackedKeys, inout [Bool]) -> Void) throws -> KeyScanResult? {
        try read { db in
            let table = try table(entity)
            try checkColumns([column] + columns, table)
            guard let attribute = table.attributeByName[column], attribute.type == .string || attribute.type == .memo else { return nil }
            let primaryKey = quoteIdentifier(table.primaryKey)
            let key = quoteIdentifier(column)
            var considered = 0, unkeyed = 0
            // the missing rows, found again by rowid (the key scan) or by primary key (the table scan)
            var missingRows: [DatabaseValue] = []
            // keys go to `areKnown` in batches, with their rows' rowids (the key scan) or ids
            var batch = PackedKeys(capacity: Self.keysPerCheck)
            var answers: [Bool] = []
            var rowids: [Int64] = []
            var ids = PackedKeys(capacity: Self.keysPerCheck, averageLength: 36)
            func check() {
                areKnown(&batch, &answers)
                for (index, known) in answers.enumerated() where !known {
                    missingRows.append(rowids.isEmpty ? ids.withKey(index) { String(decoding: $0, as: UTF8.self) }.databaseValue
                                                      : rowids[index].databaseValue)
                }
                batch.removeAll()
                rowids.removeAll(keepingCapacity: true)
                ids.removeAll()
            }
            let locator: String
            if filter == nil, table.singleColumnKeys[column] != nil {
                locator = "rowid"
                // an Active key has a partial index on the column that also holds each row's rowid:
                // reading it is a fraction of reading the table
                let total = try Int.fetchOne(db.cachedStatement(sql: "SELECT count(*) FROM \(table.quotedTable)")) ?? 0
                let sql = "SELECT rowid, \(key) FROM \(table.quotedTable) WHERE \(key) IS NOT NULL"
                try RawStatement.forEachRawRow(db, db.makeStatement(sql: sql), []) { raw in
                    considered += 1
                    guard let value = RawStatement.textBytes(raw, 1) else { return }
                    batch.append(value)
                    rowids.append(RawStatement.integer(raw, 0))
                    if batch.count == Self.keysPerCheck { check() }
                }
                unkeyed = total - considered
                considered = total
            } else {
                locator = primaryKey
                var arguments: [DatabaseValue] = []
                let whereSQL = try filter.map { try filterSQL(for: $0, table, &arguments) } ?? "1"
                let sql = "SELECT \(primaryKey), \(key) FROM \(table.quotedTable) WHERE \(whereSQL)"
                try RawStatement.forEachRawRow(db, db.makeStatement(sql: sql), arguments) { raw in
                    considered += 1
                    guard let value = RawStatement.textBytes(raw, 1), let id = RawStatement.textBytes(raw, 0) else { unkeyed += 1; return }
                    batch.append(value)
                    ids.append(id)
                    if batch.count == Self.keysPerCheck { check() }
                }
            }
            if batch.count > 0 { check() }
            let projection = projection([column] + columns, table)
            var missing: [Record] = []
            missing.reserveCapacity(missingRows.count)
            for start in stride(from: 0, to: missingRows.count, by: Self.idsPerQuery) {
                let chunk = missingRows[start..<min(start + Self.idsPerQuery, missingRows.count)]
                let placeholders = Array(repeating: "?", count: chunk.count).joined(separator: ", ")
                let select = "SELECT \(projection.selectList) FROM \(table.quotedTable) WHERE \(locator) IN (\(placeholders))"
                missing += try records(db, select, Array(chunk), table, projection)
            }
            missing.sort { ($0.id?.description ?? "") < ($1.id?.description ?? "") }
            return KeyScanResult(considered: considered, unkeyed: unkeyed, missing: missing)
        }
    }
}
