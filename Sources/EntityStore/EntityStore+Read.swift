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
        return record(from: row, projection(columns, table))
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

    /// The columns a read returns, compiled once per read: the attributes (primary key and
    /// version always included) and the stored positions the SELECT list reads.
    struct Projection {
        let columns: [EntityTable.Column]
        let positions: [Int]
        let selectList: String
        /// A record's fields with every column null, and where each column's value sits in it:
        /// a record starts as a copy and sets its values by position, so no column name is
        /// hashed per record (a page of records built 5× faster than by inserting names).
        let fieldTemplate: [String: FieldValue]
        let fieldSlots: [Dictionary<String, FieldValue>.Index]

        init(columns: [EntityTable.Column], positions: [Int], selectList: String) {
            self.columns = columns
            self.positions = positions
            self.selectList = selectList
            var template = [String: FieldValue](minimumCapacity: columns.count)
            for column in columns { template[column.attribute.name] = .null }
            fieldSlots = columns.map { template.index(forKey: $0.attribute.name)! }
            fieldTemplate = template
        }
    }

    /// The projection of the named columns (nil = all).
    func projection(_ names: [String]?, _ table: EntityTable) -> Projection {
        guard let names else {
            return Projection(columns: table.columns, positions: Array(table.storedColumns.indices), selectList: table.selectList)
        }
        let wanted = Set(names.map(logicalColumn) + [table.primaryKey, "versionnumber"])
        let columns = table.columns.filter { wanted.contains($0.attribute.name) }
        let positions = columns.flatMap { column in [column.index] + (column.typeIndex.map { [$0] } ?? []) }
        return Projection(columns: columns, positions: positions,
                          selectList: positions.map { quoteIdentifier(table.storedColumns[$0]) }.joined(separator: ", "))
    }

    /// Builds a record from a stored row with the projection's columns.
    func record(from row: StoredRow, _ projection: Projection) -> Record {
        var fields = projection.fieldTemplate
        for (slot, column) in zip(projection.fieldSlots, projection.columns) {
            let stored = row.values[column.index] ?? .null
            let lookupType = column.typeIndex.flatMap { row.values[$0] }.flatMap(String.fromDatabaseValue)
            fields.values[slot] = ValueCodec.fieldValue(stored, for: column.attribute, lookupType: lookupType)
        }
        let id = row.values[row.table.primaryKeyIndex].flatMap(String.fromDatabaseValue).flatMap(RecordID.init)
        return Record(entity: row.table.name, id: id, fields: fields)
    }

    /// Loads the rows of a statement that selects `projection.selectList`, as records, with
    /// the related records of the expanded lookups (read by id, a few `IN (…)` queries per
    /// target entity).
    /// - Throws: `0x0` when a requested column does not exist in a target a row points at.
    func records(_ db: Database, _ sql: String, _ arguments: [DatabaseValue], _ table: EntityTable,
                 _ projection: Projection, expand: [String: [String]] = [:]) throws -> [Record] {
        let page = try rowPage(db, sql, arguments, table, projection, rowsExpected: 0)
        guard !expand.isEmpty else { return page.records() }
        var related: [RelatedRows] = []
        for (column, wanted) in expand.sorted(by: { $0.key < $1.key }) {
            related += try relatedRowsByID(page, column: logicalColumn(column), wanted: wanted, db)
        }
        return page.with(related: related).records()
    }

    /// Checks an expansion: each key a lookup column of the table.
    /// - Throws: `0x0` for an unknown column, `query.invalid` for a column that is not a lookup.
    func checkExpand(_ expand: [String: [String]], _ table: EntityTable) throws {
        for column in expand.keys.sorted() {
            try checkColumns([column], table)
            guard let attribute = table.attributeByName[logicalColumn(column)], attribute.type.isReference else {
                throw ServiceError(.queryInvalid, "Only lookup columns can be expanded; '\(column)' of '\(table.name)' is not one.", entity: table.name)
            }
            // a related column no target has is an error whether or not a row points at a
            // record (one that only some targets have is checked against the rows read)
            let targets = try (attribute.targets ?? []).map { try self.table($0) }
            for wanted in expand[column] ?? [] where !targets.contains(where: { $0.attributeByName[logicalColumn(wanted)] != nil }) {
                try checkColumns([wanted], targets.first ?? table)
            }
        }
    }

    /// The columns a read must return so its expanded lookups can be followed.
    func columnsWithExpanded(_ columns: [String]?, _ expand: [String: [String]]) -> [String]? {
        guard var columns, !expand.isEmpty else { return columns }
        for column in expand.keys.sorted() where !columns.contains(column) { columns.append(column) }
        return columns
    }
}
