import EntityModel
import GRDB

extension EntityStore {
    /// Checks and converts request fields to storage values; lookups are resolved here.
    /// - Throws: `0x0` for an unknown column, `0x80048d19` for a read-only column or wrong type,
    ///   `0x80044331` for over-long text, `0x80040203` for null in a required column, not-found for a lookup target.
    func encode(_ fields: [String: FieldValue], _ table: EntityTable, _ db: Database) throws -> StoredRow {
        var values = StoredRow(minimumCapacity: fields.count + 4)
        for (name, value) in fields {
            let column = name.hasPrefix("_") && name.hasSuffix("_value") ? String(name.dropFirst().dropLast(6)) : name
            guard let attribute = table.attributeByName[column] else {
                throw ServiceError(.unknownProperty,
                    "An error occurred while validating input parameters: Invalid property '\(name)' was found in entity 'Microsoft.Dynamics.CRM.\(table.name)'.",
                    entity: table.name)
            }
            if Self.readOnlyColumns.contains(column) {
                throw ServiceError(.payloadError, "The column '\(column)' of '\(table.name)' is read-only.", entity: table.name)
            }
            if value.isNull && attribute.isRequired {
                throw ServiceError(.invalidArgument, "Attribute: \(column) cannot be set to NULL", entity: table.name)
            }
            if attribute.type.isReference {
                try encodeLookup(value, attribute, table, db, into: &values)
            } else {
                values[column] = try ValueCodec.storageValue(value, for: attribute, entity: table.name)
            }
        }
        return values
    }

    private func encodeLookup(_ value: FieldValue, _ attribute: AttributeDefinition, _ table: EntityTable,
                              _ db: Database, into values: inout StoredRow) throws {
        let typed = table.typedLookups.contains(attribute.name)
        if value.isNull {
            values[attribute.name] = .null
            if typed { values[EntityTable.typeColumn(attribute.name)] = .null }
            return
        }
        let target = try resolveLookup(value, attribute, table, db)
        values[attribute.name] = target.id.description.databaseValue
        if typed { values[EntityTable.typeColumn(attribute.name)] = target.entity.databaseValue }
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
