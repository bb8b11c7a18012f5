import EntityModel
import GRDB

extension EntityStore {
    /// Retrieves one record with the given columns (nil = all).
    /// - Throws: not-found (`0x80040217` / `0x80060891`), `0x0` for an unknown column.
    public func retrieve(_ reference: EntityReference, columns: [String]?) throws -> Record {
        try read { db in try retrieve(reference, columns: columns, db) }
    }

    func retrieve(_ reference: EntityReference, columns: [String]?, _ db: Database) throws -> Record {
        let (table, row) = try requireRow(reference, db)
        try checkColumns(columns, table)
        return record(from: row, table, wanted: wantedColumns(columns, table))
    }

    /// Checks that every named column exists.
    /// - Throws: `0x0` naming the first unknown column.
    func checkColumns(_ columns: [String]?, _ table: EntityTable) throws {
        for column in columns ?? [] where table.attributeByName[logicalColumn(column)] == nil {
            throw ServiceError(.unknownProperty,
                "Could not find a property named '\(column)' on type 'Microsoft.Dynamics.CRM.\(table.name)'.", entity: table.name)
        }
    }

    /// `_x_value` → `x`; other names unchanged.
    func logicalColumn(_ name: String) -> String {
        name.hasPrefix("_") && name.hasSuffix("_value") ? String(name.dropFirst().dropLast(6)) : name
    }

    /// The columns a read returns (nil = all); the primary key and version are always included.
    func wantedColumns(_ columns: [String]?, _ table: EntityTable) -> Set<String>? {
        columns.map { Set($0.map(logicalColumn) + [table.primaryKey, "versionnumber"]) }
    }

    /// Builds a record from a stored row with the wanted columns.
    func record(from row: StoredRow, _ table: EntityTable, wanted: Set<String>?) -> Record {
        var fields: [String: FieldValue] = [:]
        fields.reserveCapacity(wanted?.count ?? table.columns.count)
        for column in table.columns where wanted?.contains(column.attribute.name) ?? true {
            let stored = row.values[column.index] ?? .null
            let lookupType = column.typeIndex.flatMap { row.values[$0] }.flatMap(String.fromDatabaseValue)
            fields[column.attribute.name] = ValueCodec.fieldValue(stored, for: column.attribute, lookupType: lookupType)
        }
        let id = row.values[table.primaryKeyIndex].flatMap(String.fromDatabaseValue).flatMap(RecordID.init)
        return Record(entity: table.name, id: id, fields: fields)
    }

    /// Loads the rows of a statement that selects `table.selectList`, as records.
    func records(_ db: Database, _ sql: String, _ arguments: [DatabaseValue], _ table: EntityTable,
                 columns: [String]?) throws -> [Record] {
        var result: [Record] = []
        let wanted = wantedColumns(columns, table)
        try RawStatement.forEachRow(db, db.cachedStatement(sql: sql), arguments) { values in
            result.append(record(from: StoredRow(table, values: values), table, wanted: wanted))
        }
        return result
    }
}
