import EntityModel
import GRDB

/// An entity definition compiled for SQL: quoted names, attribute lookup, the stored
/// columns in a fixed order (rows are arrays in that order), and SQL built once.
///
/// The update-statement cache is mutable; it is only touched inside the store's serialized
/// database closures, like the statements themselves.
final class EntityTable: @unchecked Sendable {
    /// One attribute as the write path needs it, shared rather than copied per use.
    final class Column {
        let attribute: AttributeDefinition
        /// Position of the column in `storedColumns` (and in a `StoredRow`).
        let index: Int
        /// Position of the target-entity column of a lookup with several targets.
        let typeIndex: Int?
        /// `versionnumber`, `createdon`, `modifiedon`: no request may set them.
        let isReadOnly: Bool
        /// A lookup's last target table, for the catalog generation it was found in
        /// (`EntityStore.lookupTarget`); touched only inside the store's write closures.
        var lastTarget: (generation: Int, table: EntityTable)?

        /// The attribute's type, decimal places and first target, for reading a value per row
        /// (`ValueCodec.fieldValue(_:_:kind:scale:lookupType:column:)`): reading them through
        /// `attribute` copies the whole definition, a retain and a release per member.
        let type: AttributeKind
        let scale: Int
        let firstTarget: String
        /// `attribute.isRequired`, `effectiveMaxLength`, `minValue` and `maxValue`, and whether
        /// it has choice options, for the same reason (`ValueCodec.quickStorageValue`).
        let isRequired: Bool
        let maxLength: Int
        let minValue: Int64?
        let maxValue: Int64?
        let hasOptions: Bool

        init(_ attribute: AttributeDefinition, index: Int, typeIndex: Int?) {
            self.attribute = attribute
            self.index = index
            self.typeIndex = typeIndex
            type = attribute.type
            scale = attribute.effectivePrecision
            firstTarget = attribute.targets?.first ?? ""
            isRequired = attribute.isRequired
            maxLength = attribute.effectiveMaxLength
            minValue = attribute.minValue
            maxValue = attribute.maxValue
            hasOptions = !(attribute.options ?? []).isEmpty
            isReadOnly = ["versionnumber", "createdon", "modifiedon"].contains(attribute.name)
        }
    }

    let definition: EntityDefinition
    let attributes: [AttributeDefinition]
    let attributeByName: [String: AttributeDefinition]
    /// Columns holding a lookup whose target entity must be stored next to the id.
    let typedLookups: Set<String>
    /// Every stored column name, type columns included, in row order.
    let storedColumns: [String]
    /// Position of each stored column.
    let columnIndex: [String: Int]
    /// Each attribute by name.
    let columnByName: [String: Column]
    /// The attributes' columns in attribute order.
    let columns: [Column]
    /// Position of the primary key in a row.
    let primaryKeyIndex: Int
    /// Positions of `statecode` and `statuscode`, when the table has them.
    let stateIndex: Int?
    let statusIndex: Int?
    /// `definition.hasStateModel` and `definition.states`, read per row without copying the definition.
    let hasStateModel: Bool
    let stateModel: [StateOption]

    /// `SELECT <stored columns> … WHERE pk = ?`, built once.
    let selectByIDSQL: String
    /// `SELECT 1 … WHERE pk = ?`, built once.
    let existsByIDSQL: String
    /// Per Active key name: `SELECT <stored columns> … WHERE c1 = ? AND …` and `SELECT pk … WHERE …`, built once.
    let keySQL: [String: (selectRow: String, selectID: String)]
    /// `INSERT … (every stored column) VALUES (?, …)`: a create binds NULL to the columns it does not set.
    let insertSQL: String
    /// The stored columns, quoted and comma-separated, for SELECT lists.
    let selectList: String
    /// The columns every write check reads: primary key, version, state, status and the key columns.
    let writeCheckMask: [Bool]
    /// The Active keys of one column, by that column.
    let singleColumnKeys: [String: AlternateKeyDefinition]
    /// UPDATE statements by the positions of the columns they set.
    var updateSQL: [[Int]: String] = [:]
    /// `insertSQL` prepared, while the store keeps it (`EntityStore.keptStatement`); touched
    /// only inside the store's write closures.
    weak var insertStatement: Statement?
    /// Compiled upsert shapes by shape (`EntityStore.upsertRow`); nil for shapes that take the general path.
    var rowPlans: [ObjectIdentifier: (shape: RowShape, plan: RowPlan?)] = [:]
    /// Upsert cursors by key name (`KeyOrderCursor`), shared by every plan on that key: they
    /// would otherwise share one kept statement; touched only inside the store's write closures.
    var keyOrderCursors: [String: KeyOrderCursor] = [:]
    /// Records of this entity found by a single-column key during writes (see
    /// `EntityStore.lookupCacheEpoch`); valid only while `lookupCacheEpoch` matches the store's.
    var lookupCache: [LookupCacheKey: RecordID] = [:]
    var lookupCacheEpoch = -1
    /// Every record's id by one text key, read once lookups keep missing `lookupCache`
    /// (`EntityStore.noteLookupMiss`); dropped with the cache.
    var keyMap: LookupKeyMap?
    /// Lookups of this entity that went to SQL since the cache was last emptied.
    var lookupMisses = 0
    /// The row count the key-map decision last read (`EntityStore.noteLookupMiss`), dropped with the cache.
    var countedRows: Int?
    /// The key map being read apart (`KeyMapRead`), until it is used or dropped with the cache.
    var keyMapRead: KeyMapRead?
    /// The store's `writeCount` at this table's last write.
    var lastWrite = 0

    deinit {
        // a table replaced by a schema change lets its read go
        keyMapRead?.cancel()
    }

    init(_ definition: EntityDefinition) {
        self.definition = definition
        attributes = definition.allAttributes
        attributeByName = Dictionary(attributes.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        let typedLookups = Set(attributes.filter { $0.type.isReference && ($0.targets?.count ?? 0) > 1 }.map { $0.name })
        self.typedLookups = typedLookups
        var storedColumns: [String] = []
        var columnByName: [String: Column] = [:]
        var columns: [Column] = []
        for attribute in attributes where columnByName[attribute.name] == nil {
            let index = storedColumns.count
            storedColumns.append(attribute.name)
            var typeIndex: Int?
            if typedLookups.contains(attribute.name) {
                typeIndex = storedColumns.count
                storedColumns.append(Self.typeColumn(attribute.name))
            }
            let column = Column(attribute, index: index, typeIndex: typeIndex)
            columnByName[attribute.name] = column
            columns.append(column)
        }
        self.storedColumns = storedColumns
        self.columnByName = columnByName
        self.columns = columns
        primaryKeyIndex = columnByName[definition.primaryIdAttribute]?.index ?? 0
        stateIndex = columnByName["statecode"]?.index
        statusIndex = columnByName["statuscode"]?.index
        hasStateModel = definition.hasStateModel
        stateModel = definition.states
        columnIndex = Dictionary(storedColumns.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
        let table = quoteIdentifier(definition.name)
        let primaryKey = quoteIdentifier(definition.primaryIdAttribute)
        let selectList = storedColumns.map(quoteIdentifier).joined(separator: ", ")
        self.selectList = selectList
        selectByIDSQL = "SELECT \(selectList) FROM \(table) WHERE \(primaryKey) = ?"
        existsByIDSQL = "SELECT 1 FROM \(table) WHERE \(primaryKey) = ?"
        insertSQL = "INSERT INTO \(table) (\(selectList)) VALUES (\(Array(repeating: "?", count: storedColumns.count).joined(separator: ", ")))"
        var keySQL: [String: (String, String)] = [:]
        for key in definition.keys {
            let predicate = key.columns.map { "\(quoteIdentifier($0)) = ?" }.joined(separator: " AND ")
            keySQL[key.name] = ("SELECT \(selectList) FROM \(table) WHERE \(predicate)", "SELECT \(primaryKey) FROM \(table) WHERE \(predicate)")
        }
        self.keySQL = keySQL
        var singleColumnKeys: [String: AlternateKeyDefinition] = [:]
        for key in definition.keys where key.status == .active && key.columns.count == 1 && singleColumnKeys[key.columns[0]] == nil {
            singleColumnKeys[key.columns[0]] = key
        }
        self.singleColumnKeys = singleColumnKeys
        var mask = [Bool](repeating: false, count: storedColumns.count)
        let always = [definition.primaryIdAttribute, "versionnumber", "statecode", "statuscode"] + definition.keys.flatMap(\.columns)
        for name in always {
            guard let column = columnByName[name] else { continue }
            mask[column.index] = true
            if let typeIndex = column.typeIndex { mask[typeIndex] = true }
        }
        writeCheckMask = mask
    }

    /// `UPDATE … SET <columns at positions>, versionnumber = ?, modifiedon = ? WHERE pk = ?`, built once per column set.
    func updateStatementSQL(_ positions: [Int]) -> String {
        if let sql = updateSQL[positions] { return sql }
        let assignments = (positions.map { storedColumns[$0] } + ["versionnumber", "modifiedon"])
            .map { "\(quoteIdentifier($0)) = ?" }.joined(separator: ", ")
        let sql = "UPDATE \(quotedTable) SET \(assignments) WHERE \(quoteIdentifier(primaryKey)) = ?"
        updateSQL[positions] = sql
        return sql
    }

    var name: String { definition.name }
    var primaryKey: String { definition.primaryIdAttribute }
    var quotedTable: String { quoteIdentifier(definition.name) }

    /// The name of the column that stores a typed lookup's target entity.
    static func typeColumn(_ column: String) -> String { column + "type" }

    /// SQL column declaration for an attribute (plus its type column).
    static func columnDeclarations(_ attribute: AttributeDefinition, primaryKey: String, typed: Bool) -> [String] {
        let name = quoteIdentifier(attribute.name)
        if attribute.name == primaryKey { return ["\(name) TEXT NOT NULL PRIMARY KEY"] }
        switch attribute.type {
        // (NOCASE: keys match case-insensitively; `KeyOrderCursor` compares in this order too)
        case .string, .memo: return ["\(name) TEXT COLLATE NOCASE"]
        case .float: return ["\(name) REAL"]
        case .lookup, .owner, .uniqueidentifier:
            return typed ? ["\(name) TEXT", "\(quoteIdentifier(typeColumn(attribute.name))) TEXT"] : ["\(name) TEXT"]
        default: return ["\(name) INTEGER"]
        }
    }

    /// CREATE TABLE statement for the entity.
    var createTableSQL: String {
        let columns = attributes.flatMap {
            Self.columnDeclarations($0, primaryKey: primaryKey, typed: typedLookups.contains($0.name))
        }
        return "CREATE TABLE IF NOT EXISTS \(quotedTable) (\(columns.joined(separator: ", ")))"
    }

    /// The Active key with exactly these columns (in any order); nil when none.
    func activeKey(columns: [String]) -> AlternateKeyDefinition? {
        definition.keys.first { key in
            key.status == .active && key.columns.count == columns.count && columns.allSatisfy { key.columns.contains($0) }
        }
    }
}

/// Double-quotes an SQL identifier (logical names never hold a quote; doubled if one does).
func quoteIdentifier(_ name: String) -> String {
    if !name.utf8.contains(UInt8(ascii: "\"")) { return "\"" + name + "\"" }
    return "\"" + name.split(separator: "\"", omittingEmptySubsequences: false).joined(separator: "\"\"") + "\""
}
