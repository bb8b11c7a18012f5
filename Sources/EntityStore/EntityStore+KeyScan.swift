import EntityModel
import GRDB

extension EntityStore: KeyColumnScanning {
    /// Most ids bound to one `IN (…)` query when reading the missing rows back.
    private static let idsPerQuery = 500

    /// Reads the primary key and `column` of every row in one statement; only the rows the
    /// caller does not know become records. See `KeyColumnScanning`.
    public func scanKeyColumn(entity: String, column: String, columns: [String], filter: FilterExpression?,
                              isKnown: (UnsafeRawBufferPointer) -> Bool) throws -> KeyScanResult? {
        try read { db in
            let table = try table(entity)
            try checkColumns([column] + columns, table)
            guard let attribute = table.attributeByName[column], attribute.type == .string || attribute.type == .memo else { return nil }
            var arguments: [DatabaseValue] = []
            let whereSQL = try filter.map { try filterSQL(for: $0, table, &arguments) } ?? "1"
            let primaryKey = quoteIdentifier(table.primaryKey)
            let sql = "SELECT \(primaryKey), \(quoteIdentifier(column)) FROM \(table.quotedTable) WHERE \(whereSQL)"
            var considered = 0, unkeyed = 0
            var missingIDs: [String] = []
            try RawStatement.forEachRawRow(db, db.makeStatement(sql: sql), arguments) { raw in
                considered += 1
                guard let key = RawStatement.textBytes(raw, 1) else { unkeyed += 1; return }
                if !isKnown(key), let id = RawStatement.textBytes(raw, 0) { missingIDs.append(String(decoding: id, as: UTF8.self)) }
            }
            missingIDs.sort()
            let projection = projection([column] + columns, table)
            var missing: [Record] = []
            missing.reserveCapacity(missingIDs.count)
            for start in stride(from: 0, to: missingIDs.count, by: Self.idsPerQuery) {
                let ids = missingIDs[start..<min(start + Self.idsPerQuery, missingIDs.count)]
                let placeholders = Array(repeating: "?", count: ids.count).joined(separator: ", ")
                let select = "SELECT \(projection.selectList) FROM \(table.quotedTable) WHERE \(primaryKey) IN (\(placeholders)) ORDER BY \(primaryKey)"
                missing += try records(db, select, ids.map(\.databaseValue), table, projection)
            }
            return KeyScanResult(considered: considered, unkeyed: unkeyed, missing: missing)
        }
    }
}
