import Foundation
import EntityModel
import GRDB

extension EntityStore {
    /// Columns no request may set.
    static let readOnlyColumns: Set<String> = ["versionnumber", "createdon", "modifiedon"]

    /// Runs one non-batch request inside an open write transaction.
    func perform(_ request: ServiceRequest, _ context: WriteContext) throws -> ServiceResponse {
        if !hasWritePageCache && Self.revisitsPages(request) { try growPageCacheForWrites(context.db) }
        switch request {
        case .create(let entity, let id, let fields):
            return .created(try create(entity, id: id, fields: fields, context))
        case .update(let reference, let fields, let ifVersion):
            let (table, row) = try requireRow(reference, context.db)
            try checkVersion(row, ifVersion, reference)
            let result = try update(table, row, fields: fields, context)
            return .updated(id: result.id, changed: result.changed, version: result.version)
        case .upsert(let reference, let fields, let mode):
            return try upsert(reference, fields: fields, mode: mode, context)
        case .upsertRow(let row):
            return try upsertRow(row, context)
        case .delete(let reference, let ifVersion):
            return .deleted(try delete(reference, ifVersion: ifVersion, context))
        case .createMultiple(let entity, let targets):
            return .createdMany(try targets.enumerated().map { index, target in
                do { return try create(entity, id: target.id, fields: target.fields, context) } catch let error as ServiceError { throw error.at(index: index) }
            })
        case .updateMultiple(let entity, let targets):
            return .many(try updateMultiple(entity, targets, context))
        case .upsertMultiple(let entity, let targets):
            return .many(try upsertMultiple(entity, targets, context))
        case .retrieve, .retrieveMultiple, .retrieveChanges, .executeMultiple, .executeTransaction:
            return try executeNested(request, context)
        }
    }

    /// True for the writes that make the page cache grow to its full size: creates, updates
    /// and upserts insert into indexes whose pages the next rows use again. A delete touches
    /// its record's pages once (the delete phase of the benchmark, 5,000 scattered deletes,
    /// ran 1.36–1.43 s with 16 MiB and 1.47–1.66 s with 64), and reads keep the reading cache.
    static func revisitsPages(_ request: ServiceRequest) -> Bool {
        switch request {
        case .create, .update, .upsert, .upsertRow, .createMultiple, .updateMultiple, .upsertMultiple: return true
        case .delete, .retrieve, .retrieveMultiple, .retrieveChanges, .executeMultiple, .executeTransaction: return false
        }
    }

    /// Creates a record and returns its id.
    func create(_ entity: String, id: RecordID?, fields: [String: FieldValue], _ context: WriteContext,
                keyFields: [String: FieldValue] = [:]) throws -> RecordID {
        let table = try table(entity)
        var values = try encode(fields, table, context.db)
        // an upsert's key values, for the key columns the fields do not set
        let missingKeys = keyFields.filter { fields[$0.key] == nil }
        if !missingKeys.isEmpty {
            let encodedKeys = try encode(missingKeys, table, context.db)
            for (index, value) in encodedKeys.values.enumerated() where value != nil { values.values[index] = value }
        }
        return try insert(table, id: id, values, nullState: Self.setsNullState(fields), context)
    }

    /// Inserts an encoded new row: its id, state and status, version and timestamps are added here.
    func insert(_ table: EntityTable, id: RecordID?, _ encoded: StoredRow, nullState: Bool,
                _ context: WriteContext) throws -> RecordID {
        var values = encoded
        let recordID = try newID(id, values, table)
        values.values[table.primaryKeyIndex] = recordID.description.databaseValue
        try applyState(nullState: nullState, current: nil, table, &values)
        values["versionnumber"] = try context.nextVersion().databaseValue
        values["createdon"] = context.nowMillis.databaseValue
        values["modifiedon"] = context.nowMillis.databaseValue
        invalidateLookups(table)
        try runWrite(table, keyText: describeKey(table, values) ?? recordID.description) {
            try RawStatement.execute(context.db, table.insertStatement ?? keptStatement(context.db, table.insertSQL, &table.insertStatement), values.values.map { $0 ?? .null })
        }
        return recordID
    }

    private func newID(_ given: RecordID?, _ values: StoredRow, _ table: EntityTable) throws -> RecordID {
        if let given { return given }
        if let text = values.values[table.primaryKeyIndex].flatMap(String.fromDatabaseValue), let id = RecordID(text) { return id }
        return idGenerator.next(now: clock())
    }

    /// Updates a found row with the values that differ; returns whether it changed and its version.
    func update(_ table: EntityTable, _ row: StoredRow, fields: [String: FieldValue],
                _ context: WriteContext, skipping keyColumns: [String] = []) throws -> (id: RecordID, changed: Bool, version: Int64) {
        _ = try Self.rowID(row, table)  // a damaged row is reported before the fields are checked
        // an upsert's key columns address the row; they are not updated (nor checked)
        let values = try encode(fields, table, context.db, skipping: keyColumns)
        return try update(table, row, encoded: values, nullState: Self.setsNullState(fields), context)
    }

    /// Updates a found row with the encoded values that differ from it.
    func update(_ table: EntityTable, _ row: StoredRow, encoded: StoredRow, nullState: Bool,
                _ context: WriteContext) throws -> (id: RecordID, changed: Bool, version: Int64) {
        let id = try Self.rowID(row, table)
        var values = encoded
        // a record keeps its id: an update giving it another is refused, not quietly ignored
        if let given = values.values[table.primaryKeyIndex], given != row.values[table.primaryKeyIndex] {
            throw ServiceError(.invalidArgument, "The primary key '\(table.primaryKey)' of '\(table.name)' cannot be changed.", entity: table.name)
        }
        values.values[table.primaryKeyIndex] = nil
        try applyState(nullState: nullState, current: currentState(row), table, &values)
        var positions: [Int] = []
        var arguments: [DatabaseValue] = []
        for (index, value) in values.values.enumerated() {
            if let value, row.values[index] != value {
                positions.append(index)
                arguments.append(value)
            }
        }
        let currentVersion = row["versionnumber"].flatMap(Int64.fromDatabaseValue) ?? 0
        if positions.isEmpty { return (id, false, currentVersion) }
        let version = try context.nextVersion()
        arguments += [version.databaseValue, context.nowMillis.databaseValue, id.description.databaseValue]
        invalidateLookups(table)
        let sql = table.updateStatementSQL(positions)
        try runWrite(table, keyText: {
            var merged = row
            for (index, value) in values.values.enumerated() where value != nil { merged.values[index] = value }
            return describeKey(table, merged) ?? id.description
        }()) {
            try RawStatement.execute(context.db, context.db.cachedStatement(sql: sql), arguments)
        }
        return (id, true, version)
    }

    private func upsert(_ reference: EntityReference, fields: [String: FieldValue], mode: UpsertMode,
                        _ context: WriteContext) throws -> ServiceResponse {
        // read only what the upsert compares: the columns it sets, and the id, version, state
        // and key columns (the update and its error messages need those)
        let (table, row) = try findRow(reference, context.db) { table in
            var mask = table.writeCheckMask
            for name in fields.keys {
                guard let column = table.columnByName[name] ?? table.columnByName[self.logicalColumn(name)] else { continue }
                mask[column.index] = true
                if let typeIndex = column.typeIndex { mask[typeIndex] = true }
            }
            return mask
        }
        if let row {
            if mode == .createOnly {
                throw ServiceError(.duplicateRecord, "A record with matching key values already exists.",
                                   entity: table.name, key: reference.keyDescription)
            }
            var keyColumns: [String] = []
            if case .keys(let keys) = reference.locator { keyColumns = Array(keys.keys) }
            let result = try update(table, row, fields: fields, context, skipping: keyColumns)
            return .upserted(id: result.id, created: false, changed: result.changed)
        }
        if mode == .updateOnly { throw notFound(reference) }
        var id: RecordID?
        var keyFields: [String: FieldValue] = [:]
        switch reference.locator {
        case .id(let given): id = given
        case .keys(let keys): keyFields = keys
        }
        let created = try create(table.name, id: id, fields: fields, context, keyFields: keyFields)
        return .upserted(id: created, created: true, changed: true)
    }

    private func delete(_ reference: EntityReference, ifVersion: Int64?, _ context: WriteContext) throws -> RecordID {
        // reads only what a delete uses: the id, the version and the key columns (for the tombstone)
        let (table, found) = try findRow(reference, context.db) { $0.writeCheckMask }
        guard let row = found else { throw notFound(reference) }
        try checkVersion(row, ifVersion, reference)
        let id = try Self.rowID(row, table).description
        invalidateLookups(table)
        // from here on only the store itself can fail (I/O): see `executeMultiple`
        context.requestHasWritten = true
        try context.db.cachedStatement(sql: "DELETE FROM \(table.quotedTable) WHERE \(quoteIdentifier(table.primaryKey)) = ?")
            .execute(arguments: [id])
        if table.definition.changeTracking {
            try context.db.cachedStatement(sql: "INSERT INTO \(SystemTables.tombstones)(version, entity, id, deleted_at, key) VALUES (?, ?, ?, ?, ?)")
                .execute(arguments: [try context.nextVersion(), table.name, id, context.nowMillis, tombstoneKey(table, row)])
        }
        try removeLinks(to: table.name, id: id, context)
        return try Self.rowID(row, table)
    }

    /// The primary key of a stored row.
    /// - Throws: `store.unavailable` when the stored key is not a GUID (a damaged store).
    static func rowID(_ row: StoredRow, _ table: EntityTable) throws -> RecordID {
        guard let text = row.values[table.primaryKeyIndex].flatMap(String.fromDatabaseValue), let id = RecordID(text) else {
            throw ServiceError(.storeUnavailable, "A row of '\(table.name)' has no valid primary key; the store may be damaged.", entity: table.name)
        }
        return id
    }

    /// The deleted record's first Active key, as JSON text (`{"accountnumber":"A1"}`), so change
    /// readers can delete downstream by business key. Values are written as people read them
    /// (decimals with their fraction, date-times in ISO 8601), not as stored.
    private func tombstoneKey(_ table: EntityTable, _ row: StoredRow) -> String? {
        guard let key = table.definition.keys.first(where: { $0.status == .active }) else { return nil }
        var object: [String: String] = [:]
        for column in key.columns {
            guard let attribute = table.attributeByName[column], let stored = row[column], !stored.isNull else { return nil }
            switch ValueCodec.fieldValue(stored, for: attribute, lookupType: nil) {
            case .string(let text): object[column] = text
            case .reference(let reference): object[column] = reference.id?.description
            case let value: object[column] = value.displayText
            }
        }
        return FlatJSONObject.text(object)
    }

    /// Clears lookups that point at a deleted record (Dataverse's "remove link" behaviour);
    /// each changed row takes its own version, so change paging never splits a version.
    private func removeLinks(to entity: String, id: String, _ context: WriteContext) throws {
        for other in catalog.values {
            for attribute in other.attributes where attribute.type == .lookup && (attribute.targets ?? []).contains(entity) {
                let column = quoteIdentifier(attribute.name)
                let primaryKey = quoteIdentifier(other.primaryKey)
                let linked = try String.fetchAll(context.db.cachedStatement(sql: "SELECT \(primaryKey) FROM \(other.quotedTable) WHERE \(column) = ?"),
                                                 arguments: [id])
                guard !linked.isEmpty else { continue }
                invalidateLookups(other)
                var sets = "\(column) = NULL, versionnumber = ?, modifiedon = ?"
                if other.typedLookups.contains(attribute.name) { sets += ", \(quoteIdentifier(EntityTable.typeColumn(attribute.name))) = NULL" }
                let statement = try context.db.cachedStatement(sql: "UPDATE \(other.quotedTable) SET \(sets) WHERE \(primaryKey) = ?")
                for rowID in linked {
                    try statement.execute(arguments: [try context.nextVersion(), context.nowMillis, rowID])
                }
            }
        }
    }

    private func checkVersion(_ row: StoredRow, _ expected: Int64?, _ reference: EntityReference) throws {
        guard let expected else { return }
        let current = row["versionnumber"].flatMap(Int64.fromDatabaseValue) ?? 0
        guard current == expected else {
            throw ServiceError(.concurrencyVersionMismatch,
                "The version of the existing record doesn't match the RowVersion property provided.",
                entity: reference.entity, key: reference.keyDescription)
        }
    }

    private func currentState(_ row: StoredRow) -> (state: Int64, status: Int64)? {
        guard let state = row["statecode"].flatMap(Int64.fromDatabaseValue),
              let status = row["statuscode"].flatMap(Int64.fromDatabaseValue) else { return nil }
        return (state, status)
    }

    /// True when the fields set state or status to null (which no record may have).
    static func setsNullState(_ fields: [String: FieldValue]) -> Bool {
        (fields["statecode"]?.isNull ?? false) || (fields["statuscode"]?.isNull ?? false)
    }

    /// Fills in state and status by the entity's state model; `nullState`: the request set either to null.
    func applyState(nullState: Bool, current: (state: Int64, status: Int64)?,
                    _ table: EntityTable, _ values: inout StoredRow) throws {
        guard let resolved = try resolvedState(nullState: nullState, current: current, table, values) else { return }
        values["statecode"] = resolved.state.databaseValue
        values["statuscode"] = resolved.status.databaseValue
    }

    /// The state and status a write leaves by the entity's state model (nil: it sets neither
    /// and none applies); `values` are the write's encoded values.
    /// - Throws: `0x8004431a` for a null or invalid state or status.
    func resolvedState(nullState: Bool, current: (state: Int64, status: Int64)?, _ table: EntityTable,
                       _ values: StoredRow) throws -> (state: Int64, status: Int64)? {
        guard table.hasStateModel else { return nil }
        let state = table.stateIndex.flatMap { values.values[$0] }.flatMap(Int64.fromDatabaseValue)
        let status = table.statusIndex.flatMap { values.values[$0] }.flatMap(Int64.fromDatabaseValue)
        if nullState {
            throw ServiceError(.invalidStateCodeStatusCode,
                "State code is invalid or state code is valid but status code is invalid for a specified state code.", entity: table.name)
        }
        return try StateRules.resolve(state: state, status: status, current: current, model: table.stateModel, entity: table.name)
    }
}
