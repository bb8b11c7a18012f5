import EntityModel
import GRDB
import GRDBSQLite

/// A `RowShape` compiled for one table: the key it addresses, where each value goes, and the
/// columns an upsert reads. Built once per shape and table (`EntityTable.rowPlans`).
final class RowPlan {
    /// The Active key the key columns name.
    let key: AlternateKeyDefinition
    /// For each column of `key`, in the key's order: the position of its value and its attribute.
    let keyValues: [(position: Int, column: EntityTable.Column)]
    /// The column of each field value.
    let columns: [EntityTable.Column]
    /// True for the field values that are also key columns: an update leaves those alone.
    let isKeyColumn: [Bool]
    /// Key columns the fields do not set, with the index of their value in the key's order:
    /// a new record gets them from the key.
    let keyOnly: [(keyIndex: Int, column: EntityTable.Column)]
    /// The stored columns an upsert reads: the ones it sets, plus id, version, state and keys.
    let readMask: [Bool]
    /// Positions of `statecode` and `statuscode` among the field values.
    let statePositions: [Int]
    /// The SELECT of the existing row by `key`, while the store keeps it (`EntityStore.keptStatement`).
    weak var selectStatement: Statement?
    /// For a key of one text column: the cursor that follows upserts in key order.
    let cursor: KeyOrderCursor?

    /// Nil when the shape needs the general path: an unknown, aliased or read-only column, a
    /// key that is not one Active key of plain columns, or the primary key used as a key.
    init?(_ shape: RowShape, _ table: EntityTable) {
        let keyColumns = shape.keyColumns
        guard !keyColumns.isEmpty, keyColumns != [table.primaryKey], let key = table.activeKey(columns: keyColumns) else { return nil }
        var keyValues: [(Int, EntityTable.Column)] = []
        for name in key.columns {
            guard let position = keyColumns.firstIndex(of: name), let column = table.columnByName[name], !column.type.isReference
            else { return nil }
            keyValues.append((position, column))
        }
        var columns: [EntityTable.Column] = []
        var mask = table.writeCheckMask
        for name in shape.fieldColumns {
            guard let column = table.columnByName[name], !column.isReadOnly else { return nil }
            columns.append(column)
            mask[column.index] = true
            if let typeIndex = column.typeIndex { mask[typeIndex] = true }
        }
        self.key = key
        self.keyValues = keyValues
        self.columns = columns
        isKeyColumn = shape.fieldColumns.map { key.columns.contains($0) }
        keyOnly = key.columns.enumerated().compactMap { index, name in
            shape.fieldColumns.contains(name) ? nil : table.columnByName[name].map { (index, $0) }
        }
        readMask = mask
        // (string and memo columns are declared COLLATE NOCASE, the order the cursor compares in:
        // `EntityTable.columnDeclarations`)
        if key.columns.count == 1, let keyColumn = table.columnByName[key.columns[0]],
           keyColumn.attribute.type == .string || keyColumn.attribute.type == .memo {
            if let shared = table.keyOrderCursors[key.name] {
                cursor = shared
            } else {
                let name = quoteIdentifier(key.columns[0])
                let made = KeyOrderCursor(sql: "SELECT \(table.selectList) FROM \(table.quotedTable) WHERE \(name) >= ? ORDER BY \(name)",
                                          keyColumn: Int32(keyColumn.index))
                table.keyOrderCursors[key.name] = made
                cursor = made
            }
        } else {
            cursor = nil
        }
        statePositions = shape.fieldColumns.indices.filter { ["statecode", "statuscode"].contains(shape.fieldColumns[$0]) }
    }

    /// True when the values set state or status to null.
    func setsNullState(_ values: [FieldValue]) -> Bool {
        statePositions.contains { values[$0].isNull }
    }
}

extension EntityStore {
    /// Plans kept per table before the cache starts over (shapes come from scripts; few differ).
    static let rowPlanLimit = 64

    /// An upsert in a shape's column order: the same checks, errors and writes as `.upsert`,
    /// with no dictionary built or read per record. Shapes the plan does not cover take the
    /// general path.
    func upsertRow(_ row: RowUpsert, _ context: WriteContext) throws -> ServiceResponse {
        let table = try table(row.entity)
        guard let plan = rowPlan(row.shape, table) else { return try perform(row.request, context) }
        let db = context.db
        var keyStorage: [DatabaseValue] = []
        keyStorage.reserveCapacity(plan.keyValues.count)
        for (position, column) in plan.keyValues {
            let value = row.keyValues[position]
            try checkKeyValue(value, entity: table.name, key: row.reference.keyDescription)
            keyStorage.append(try ValueCodec.quickStorageValue(value, column) ?? ValueCodec.storageValue(value, for: column.attribute, entity: table.name))
        }
        // An existing row is first compared with the values as given (`unchangedID`): most rows
        // of a daily full export are unchanged, and those then build nothing at all. Otherwise
        // the fields are encoded once the row is read (`encodeFields`) and compared as SQLite
        // holds them; an encoding error waits until after the checks `.upsert` makes first (an
        // existing row under create-only, a missing row under update-only), so the same error
        // is reported.
        var encoded = StoredRow(table, values: [])
        var encodingError: Error?
        var isEncoded = false
        func encodeFields() {
            guard !isEncoded else { return }
            isEncoded = true
            encoded = StoredRow(table)
            do {
                for (index, column) in plan.columns.enumerated() where !plan.isKeyColumn[index] {
                    try encodeValue(row.values[index], column, table, db, into: &encoded)
                }
            } catch {
                encodingError = error
            }
        }
        let nullState = plan.setsNullState(row.values)
        // (a nested function, not a closure in a constant: that would be a context allocated,
        // and every value it captures retained, for each row)
        func found(_ raw: SQLiteStatement) throws -> ExistingRow {
            if row.mode == .createOnly {
                throw ServiceError(.duplicateRecord, "A record with matching key values already exists.",
                                   entity: table.name, key: row.reference.keyDescription)
            }
            if !isEncoded, let id = unchangedID(raw, row, nullState: nullState, plan, table) {
                unchangedAsGiven += 1
                return .unchanged(id)
            }
            encodeFields()
            if let encodingError { throw encodingError }
            return try compare(raw, encoded, nullState: nullState, plan, table)
        }
        let existing: ExistingRow?
        if let cursor = plan.cursor, let onRow = try positionCursor(db, cursor, at: keyStorage[0]), let raw = cursor.raw {
            if onRow {
                cursor.state = .used
                existing = try found(raw)
            } else {
                existing = nil
            }
        } else {
            existing = try RawStatement.withFirstRow(db, plan.selectStatement ?? keptStatement(db, table.keySQL[plan.key.name]!.selectRow, &plan.selectStatement),
                                                     keyStorage, found)
        }
        switch existing {
        case .unchanged(let id)?:
            return .upserted(id: id, created: false, changed: false)
        case .changed(let found)?:
            let result = try update(table, found, encoded: encoded, nullState: nullState, context)
            return .upserted(id: result.id, created: false, changed: result.changed)
        case nil:
            break
        }
        if row.mode == .updateOnly { throw notFound(row.reference) }
        encodeFields()
        if let encodingError { throw encodingError }
        for (index, column) in plan.columns.enumerated() where plan.isKeyColumn[index] {
            try encodeValue(row.values[index], column, table, db, into: &encoded)
        }
        for (keyIndex, column) in plan.keyOnly { encoded.values[column.index] = keyStorage[keyIndex] }
        let id = try insert(table, id: nil, encoded, nullState: nullState, context)
        return .upserted(id: id, created: true, changed: true)
    }

    /// What the existing row of an upsert needs: nothing when no value differs, else its
    /// columns (those the plan reads) for `update`, which checks and writes as `.upsert` does.
    private enum ExistingRow {
        case unchanged(RecordID)
        case changed(StoredRow)
    }

    /// Compares the encoded values, after the state model has filled in state and status, with
    /// the row the statement is on (the table's SELECT list, so positions match `StoredRow`).
    /// Only a row whose every value is surely equal is reported unchanged here; any other row
    /// is built and handed to `update`, which decides and writes exactly as `.upsert` does.
    private func compare(_ raw: SQLiteStatement, _ encoded: StoredRow, nullState: Bool, _ plan: RowPlan,
                         _ table: EntityTable) throws -> ExistingRow {
        let materialized = { StoredRow(table, values: (0..<Int32(table.storedColumns.count)).map { index in
            plan.readMask[Int(index)] ? DatabaseValue(sqliteStatement: raw, index: index) : nil
        }) }
        guard let idText = RawStatement.textBytes(raw, Int32(table.primaryKeyIndex)),
              let id = RecordID(String(decoding: idText, as: UTF8.self)) else { return .changed(materialized()) }
        // state and status as the state model leaves them, compared in their own positions
        var resolved: (state: Int64, status: Int64)?
        if table.hasStateModel {
            // a state or status that is not a plain integer: `update` reads it as it always has
            guard let state = table.stateIndex.map(Int32.init), let status = table.statusIndex.map(Int32.init),
                  sqlite3_column_type(raw, state) == SQLITE_INTEGER, sqlite3_column_type(raw, status) == SQLITE_INTEGER
            else { return .changed(materialized()) }
            resolved = try resolvedState(nullState: nullState, current: (sqlite3_column_int64(raw, state), sqlite3_column_int64(raw, status)),
                                         table, encoded)
            if let resolved, sqlite3_column_int64(raw, state) != resolved.state || sqlite3_column_int64(raw, status) != resolved.status {
                return .changed(materialized())
            }
        }
        for (index, value) in encoded.values.enumerated() where index != table.primaryKeyIndex {
            guard let value else { continue }
            if resolved != nil && (index == table.stateIndex || index == table.statusIndex) { continue }
            // anything not surely equal goes to `update`, which compares built values as ever
            if !RawStatement.column(raw, Int32(index), isSurely: value) { return .changed(materialized()) }
        }
        return .unchanged(id)
    }

    /// The id of the row the statement is on when every field value is surely what the row
    /// holds, checked as `encodeValue` and `compare` check it but with nothing built: no
    /// `StoredRow`, no id text per lookup. Nil for anything else — a value that differs, that
    /// would not encode, or that this does not read (a lookup the key map does not answer) —
    /// and the caller then encodes and compares as ever, so errors and writes are unchanged.
    private func unchangedID(_ raw: SQLiteStatement, _ row: RowUpsert, nullState: Bool, _ plan: RowPlan,
                             _ table: EntityTable) -> RecordID? {
        if nullState { return nil }
        let hasStateModel = table.hasStateModel
        var state: Int64?, status: Int64?
        for (index, column) in plan.columns.enumerated() where !plan.isKeyColumn[index] {
            let position = Int32(column.index)
            let value = row.values[index]
            if case .null = value {
                guard !column.isRequired, sqlite3_column_type(raw, position) == SQLITE_NULL else { return nil }
                if column.type.isReference, let typeIndex = column.typeIndex, sqlite3_column_type(raw, Int32(typeIndex)) != SQLITE_NULL {
                    return nil
                }
                continue
            }
            if column.type.isReference {
                guard case .reference(let given) = value, let id = mappedLookup(given, column),
                      RawStatement.column(raw, position, hasText: id.description) else { return nil }
                if let typeIndex = column.typeIndex, !RawStatement.column(raw, Int32(typeIndex), hasText: given.entity) { return nil }
                continue
            }
            if case .string(let text) = value, column.type == .string || column.type == .memo {
                // (over-long text, or text with a NUL, is left to `encodeValue`'s errors)
                guard text.utf8.count <= column.maxLength, RawStatement.column(raw, position, hasText: text) else { return nil }
                continue
            }
            guard let stored = ValueCodec.quickStorageValue(value, column)
                    ?? (try? ValueCodec.storageValue(value, for: column.attribute, entity: table.name)) else { return nil }
            if hasStateModel && column.index == table.stateIndex {
                state = Int64.fromDatabaseValue(stored)
            } else if hasStateModel && column.index == table.statusIndex {
                status = Int64.fromDatabaseValue(stored)
            } else if !RawStatement.column(raw, position, isSurely: stored) {
                return nil
            }
        }
        if hasStateModel {
            guard let stateIndex = table.stateIndex.map(Int32.init), let statusIndex = table.statusIndex.map(Int32.init),
                  sqlite3_column_type(raw, stateIndex) == SQLITE_INTEGER, sqlite3_column_type(raw, statusIndex) == SQLITE_INTEGER
            else { return nil }
            let current = (state: sqlite3_column_int64(raw, stateIndex), status: sqlite3_column_int64(raw, statusIndex))
            let resolved: (state: Int64, status: Int64)?
            do {
                resolved = try StateRules.resolve(state: state, status: status, current: current, model: table.stateModel, entity: table.name)
            } catch {
                return nil
            }
            if let resolved, resolved.state != current.state || resolved.status != current.status { return nil }
        }
        guard let idText = RawStatement.textBytes(raw, Int32(table.primaryKeyIndex)) else { return nil }
        return RecordID(storedBytes: idText.bindMemory(to: UInt8.self))
    }

    /// The table's plan for a shape, compiled on first use; nil when the shape needs the general path.
    private func rowPlan(_ shape: RowShape, _ table: EntityTable) -> RowPlan? {
        let id = ObjectIdentifier(shape)
        if let cached = table.rowPlans[id] { return cached.plan }
        if table.rowPlans.count >= Self.rowPlanLimit { table.rowPlans.removeAll() }
        let plan = RowPlan(shape, table)
        table.rowPlans[id] = (shape, plan)  // the entry holds the shape: its identity is not reused meanwhile
        return plan
    }
}
