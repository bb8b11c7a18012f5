import EntityModel
import GRDB

extension EntityStore {
    /// Checks and converts request fields to storage values; lookups are resolved here.
    /// - Throws: `0x0` for an unknown column, `0x80048d19` for a read-only column or wrong type,
    ///   `0x80044331` for over-long text, `0x80040203` for null in a required column, not-found for a lookup target.
    /// `skipping` names fields to leave out unread (an upsert's key columns: they address the
    /// row and are not updated).
    func encode(_ fields: [String: FieldValue], _ table: EntityTable, _ db: Database, skipping: [String] = []) throws -> StoredRow {
        var values = StoredRow(table)
        for (name, value) in fields {
            if !skipping.isEmpty && skipping.contains(name) { continue }
            let found = table.columnByName[name]
                ?? (name.hasPrefix("_") && name.hasSuffix("_value") ? table.columnByName[String(name.dropFirst().dropLast(6))] : nil)
            guard let column = found else {
                throw ServiceError(.unknownProperty,
                    "An error occurred while validating input parameters: Invalid property '\(name)' was found in entity 'Microsoft.Dynamics.CRM.\(table.name)'.",
                    entity: table.name)
            }
            if column.isReadOnly {
                throw ServiceError(.payloadError, "The column '\(column.attribute.name)' of '\(table.name)' is read-only.", entity: table.name)
            }
            try encodeValue(value, column, table, db, into: &values)
        }
        return values
    }

    /// Checks and converts one value of a writable column into `values`.
    func encodeValue(_ value: FieldValue, _ column: EntityTable.Column, _ table: EntityTable, _ db: Database,
                     into values: inout StoredRow) throws {
        if value.isNull && column.attribute.isRequired {
            throw ServiceError(.invalidArgument, "Attribute: \(column.attribute.name) cannot be set to NULL", entity: table.name)
        }
        if column.attribute.type.isReference {
            try encodeLookup(value, column, table, db, into: &values)
        } else {
            values.values[column.index] = try ValueCodec.storageValue(value, for: column.attribute, entity: table.name)
        }
    }

    private func encodeLookup(_ value: FieldValue, _ column: EntityTable.Column, _ table: EntityTable,
                              _ db: Database, into values: inout StoredRow) throws {
        if value.isNull {
            values.values[column.index] = .null
            if let typeIndex = column.typeIndex { values.values[typeIndex] = .null }
            return
        }
        let target = try resolveLookup(value, column.attribute, table, db, column: column)
        values.values[column.index] = target.id.description.databaseValue
        if let typeIndex = column.typeIndex { values.values[typeIndex] = target.entity.databaseValue }
    }

    /// Runs a write, turning SQLite uniqueness failures into Dataverse errors naming the key.
    func runWrite(_ table: EntityTable, keyText: @autoclosure () -> String, _ body: () throws -> Void) throws {
        do {
            try body()
        } catch let error as DatabaseError where error.resultCode == .SQLITE_CONSTRAINT {
            throw constraintError(table, error, keyText: keyText())
        }
    }

    private func constraintError(_ table: EntityTable, _ error: DatabaseError, keyText: String) -> ServiceError {
        let message = error.message ?? ""
        let prefix = "\(table.name)."
        let columns = Set(message.components(separatedBy: ": ").last?.components(separatedBy: ", ")
            .map { $0.hasPrefix(prefix) ? String($0.dropFirst(prefix.count)) : $0 } ?? [])
        if let key = table.definition.keys.first(where: { Set($0.columns) == columns }) {
            return ServiceError(.duplicateRecordEntityKey,
                "Entity Key \(key.name) violated. A record with the same value for \(key.columns.joined(separator: ",")) already exists. A duplicate record cannot be created. Select one or more unique values and try again.",
                entity: table.name, key: keyText)
        }
        return ServiceError(.duplicateRecord, "Operation failed due to a SQL integrity violation. Cannot insert duplicate key.",
                            entity: table.name, key: keyText)
    }

    /// The record's first Active key as people read it (`accountnumber='A1'`), from storage values.
    func describeKey(_ table: EntityTable, _ values: StoredRow) -> String? {
        for key in table.definition.keys where key.status == .active {
            let parts = key.columns.compactMap { column -> String? in
                guard let value = values[column], !value.isNull else { return nil }
                if let text = String.fromDatabaseValue(value) { return "\(column)='\(text)'" }
                return "\(column)=\(value)"
            }
            if parts.count == key.columns.count { return parts.joined(separator: ",") }
        }
        return nil
    }
}
