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
        for attribute in table.attributes where wanted?.contains(attribute.name) ?? true {
            let stored = row[attribute.name] ?? .null
            let lookupType = table.typedLookups.contains(attribute.name)
                ? row[EntityTable.typeColumn(attribute.name)].flatMap(String.fromDatabaseValue) : nil
            fields[attribute.name] = ValueCodec.fieldValue(stored, for: attribute, lookupType: lookupType)
        }
        let id = row[table.primaryKey].flatMap(String.fromDatabaseValue).flatMap(RecordID.init)
        return Record(entity: table.name, id: id, fields: fields)
    }

    /// Loads rows of a statement as records.
    func records(_ db: Database, _ sql: String, _ arguments: StatementArguments, _ table: EntityTable,
                 columns: [String]?) throws -> [Record] {
        let rows = try Row.fetchCursor(db.cachedStatement(sql: sql), arguments: arguments)
        var result: [Record] = []
        let wanted = wantedColumns(columns, table)
        while let row = try rows.next() {
            var stored = StoredRow(minimumCapacity: row.count)
            for (column, value) in row { stored[column] = value }
            result.append(record(from: stored, table, wanted: wanted))
        }
        return result
    }
}
