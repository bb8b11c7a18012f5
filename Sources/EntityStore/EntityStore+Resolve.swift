import EntityModel
import GRDB
import KeyTables

extension FieldValue {
    /// True for a reference to another record.
    var isReference: Bool {
        if case .reference = self { return true }
        return false
    }
}

/// A row as stored: one storage value per stored column of its table, in the table's column
/// order (`EntityTable.storedColumns`); nil where a column is not set (a write sets only some).
struct StoredRow {
    let table: EntityTable
    var values: [DatabaseValue?]

    /// A row with no column set.
    init(_ table: EntityTable) {
        self.table = table
        values = Array(repeating: nil, count: table.storedColumns.count)
    }

    /// A row read from SQLite with the table's SELECT list.
    init(_ table: EntityTable, values: [DatabaseValue?]) {
        self.table = table
        self.values = values
    }

    /// The value of a stored column by name; setting an unknown name does nothing.
    subscript(column: String) -> DatabaseValue? {
        get { table.columnIndex[column].flatMap { values[$0] } }
        set { if let index = table.columnIndex[column] { values[index] = newValue } }
    }
}

extension EntityStore {
    /// The characters a key value may not contain (SPEC §1 rule 11), all ASCII, as a bit
    /// mask (bit n set = byte n forbidden): checking a key is a shift per byte, not a hash.
    static let forbiddenKeyMask: (low: UInt64, high: UInt64) = "/<>*%&:\\?+".utf8.reduce((UInt64(0), UInt64(0))) { mask, byte in
        byte < 64 ? (mask.0 | (1 << UInt64(byte)), mask.1) : (mask.0, mask.1 | (1 << UInt64(byte - 64)))
    }

    /// True when the text holds a character keys cannot contain.
    static func containsForbiddenKeyCharacter(_ text: String) -> Bool {
        text.withUTF8Bytes { containsForbiddenKeyCharacter($0) }
    }

    /// True when the bytes hold a character keys cannot contain.
    static func containsForbiddenKeyCharacter(_ bytes: UnsafeRawBufferPointer) -> Bool {
        let (low, high) = forbiddenKeyMask
        for byte in bytes where byte < 128 {
            if byte < 64 ? (low >> UInt64(byte)) & 1 == 1 : (high >> UInt64(byte - 64)) & 1 == 1 { return true }
        }
        return false
    }

    /// Finds the stored row a reference names; nil when there is none.
    /// - Throws: `0x80060888` for key columns that match no key or hold null or forbidden characters,
    ///   `0x80060890` for a key that is not Active, `0x8006088a` for an unknown entity.
    func findRow(_ reference: EntityReference, _ db: Database, reading mask: ((EntityTable) -> [Bool])? = nil) throws -> (EntityTable, StoredRow?) {
        let table = try table(reference.entity)
        let wanted = mask?(table)
        switch try normalizedLocator(reference, table, db) {
        case .id(let id):
            return (table, try fetchRow(db, table.selectByIDSQL, [id.description.databaseValue], table, reading: wanted))
        case .keys(let key, let values):
            return (table, try fetchRow(db, table.keySQL[key.name]!.selectRow, values, table, reading: wanted))
        }
    }

    /// Like `findRow`, but a missing row is an error.
    /// - Throws: `0x80040217` (by GUID) or `0x80060891` (by key) when the row does not exist.
    func requireRow(_ reference: EntityReference, _ db: Database) throws -> (EntityTable, StoredRow) {
        let (table, row) = try findRow(reference, db)
        guard let row else { throw notFound(reference) }
        return (table, row)
    }

    /// The error for a reference whose record does not exist.
    func notFound(_ reference: EntityReference) -> ServiceError {
        switch reference.locator {
        case .id(let id):
            return ServiceError(.objectDoesNotExist, "Entity '\(reference.entity)' With Id = \(id) Does Not Exist",
                                entity: reference.entity, key: id.description)
        case .keys:
            return ServiceError(.recordNotFoundByEntityKey,
                "A record with the specified key values does not exist in \(reference.entity) entity (\(reference.keyDescription))",
                entity: reference.entity, key: reference.keyDescription)
        }
    }

    enum NormalizedLocator {
        case id(RecordID)
        /// The Active key and its storage values, in the key's column order.
        case keys(AlternateKeyDefinition, [DatabaseValue])
    }

    /// Turns key values into a GUID or the columns and storage values of one Active key.
    func normalizedLocator(_ reference: EntityReference, _ table: EntityTable, _ db: Database) throws -> NormalizedLocator {
        if let id = reference.id { return .id(id) }
        let entity = table.name
        if let (column, value) = reference.singleKey, column == table.primaryKey {
            if case .guid(let id) = value { return .id(id) }
            if case .string(let text) = value, let id = RecordID(text) { return .id(id) }
        }
        if let (name, value) = reference.singleKey {
            let column = name.hasPrefix("_") && name.hasSuffix("_value") ? String(name.dropFirst().dropLast(6)) : name
            if let key = table.singleColumnKeys[column] {
                // the common case: one Active single-column key, no dictionary to build
                try checkKeyValue(value, entity: entity, reference: reference)
                let attribute = table.columnByName[column]!.attribute
                if attribute.type.isReference { return .keys(key, [try resolveLookup(value, attribute, table, db).id.description.databaseValue]) }
                return .keys(key, [try ValueCodec.storageValue(value, for: attribute, entity: entity)])
            }
        }
        guard case .keys(let values) = reference.locator else { return .id(reference.id!) }
        var given: [String: FieldValue] = [:]
        given.reserveCapacity(values.count)
        for (name, value) in values {
            given[name.hasPrefix("_") && name.hasSuffix("_value") ? String(name.dropFirst().dropLast(6)) : name] = value
        }
        let columns = Array(given.keys)
        guard let key = table.activeKey(columns: columns) else {
            if table.definition.keys.contains(where: { Set($0.columns) == Set(columns) }) {
                throw ServiceError(.entityKeyNotDefined,
                    "The key on \(columns.sorted().joined(separator: ", ")) of '\(entity)' is not active yet, so it cannot address records.",
                    entity: entity, key: reference.keyDescription)
            }
            throw invalidKey(entity, reference)
        }
        var storage: [DatabaseValue] = []
        storage.reserveCapacity(key.columns.count)
        for column in key.columns {
            let value = given[column]!
            try checkKeyValue(value, entity: entity, reference: reference)
            let attribute = table.attributeByName[column]!
            if attribute.type.isReference {
                storage.append(try resolveLookup(value, attribute, table, db).id.description.databaseValue)
            } else {
                storage.append(try ValueCodec.storageValue(value, for: attribute, entity: entity))
            }
        }
        return .keys(key, storage)
    }

    private func checkKeyValue(_ value: FieldValue, entity: String, reference: EntityReference) throws {
        try checkKeyValue(value, entity: entity, key: reference.keyDescription)
    }

    /// Refuses a null or empty key value, or one with a character keys cannot hold; `key`
    /// names the record in the error.
    func checkKeyValue(_ value: FieldValue, entity: String, key: @autoclosure () -> String) throws {
        if case .null = value {
            throw ServiceError(.invalidKey, "A key value for '\(entity)' is null; null cannot address a record (\(key())).",
                               entity: entity, key: key())
        }
        // (Dataverse keeps no empty text: "" would be null there; here rows without a key
        // would all become one record)
        if case .string(let text) = value, text.isEmpty {
            throw ServiceError(.invalidKey, "A key value for '\(entity)' is empty; an empty key cannot address a record (\(key())).",
                               entity: entity, key: key())
        }
        if case .string(let text) = value, Self.containsForbiddenKeyCharacter(text) {
            throw ServiceError(.invalidKey,
                "The key value '\(text)' for '\(entity)' contains a character that cannot be used in a key (/ < > * % & : \\ ? +). Query with a filter and address the record by its id instead.",
                entity: entity, key: key())
        }
    }

    private func invalidKey(_ entity: String, _ reference: EntityReference) -> ServiceError {
        ServiceError(.invalidKey,
            "The key in the request URI is not valid for resource 'Microsoft.Dynamics.CRM.\(entity)'. Ensure that the names and number of key properties match the declared or alternate key properties for the resource 'Microsoft.Dynamics.CRM.\(entity)'.",
            entity: entity, key: reference.keyDescription)
    }

    /// Resolves a lookup value (a reference by GUID or key, or a bare GUID) to the target's id and entity.
    /// - Throws: the target's not-found error naming its entity and key; `0x80048d19` for a target the column does not allow.
    /// `column`, when given, is the lookup's column of `table` (its last target table is reused).
    func resolveLookup(_ value: FieldValue, _ attribute: AttributeDefinition, _ table: EntityTable,
                       _ db: Database, column: EntityTable.Column? = nil) throws -> (id: RecordID, entity: String) {
        // a bulk load's lookup: a text key of the column's last target, in that target's key
        // map (the general path below made both, after checking the target)
        if let column, case .reference(let given) = value, let id = mappedLookup(given, column) {
            return (id, given.entity)
        }
        let targets = attribute.targets ?? []
        let reference: EntityReference
        switch value {
        case .reference(let given): reference = given
        case .guid(let id) where targets.count == 1: reference = EntityReference(targets[0], id: id)
        case .string(let text) where targets.count == 1 && RecordID(text) != nil:
            reference = EntityReference(targets[0], id: RecordID(text)!)
        default:
            throw ServiceError(.payloadError,
                "The value \(value.displayText) of '\(attribute.name)' in '\(table.name)' must be a reference to \(targets.joined(separator: " or ")).",
                entity: table.name)
        }
        guard targets.contains(reference.entity) else {
            throw ServiceError(.payloadError,
                "'\(attribute.name)' in '\(table.name)' refers to \(targets.joined(separator: " or ")), not '\(reference.entity)'.",
                entity: table.name)
        }
        let target = try lookupTarget(reference.entity, for: column)
        var cacheKey: LookupCacheKey?
        // (a key value that is itself a reference depends on another entity's keys: not cached)
        if isWriting, let (column, value) = reference.singleKey, !value.isReference {
            if target.lookupCacheEpoch != lookupCacheEpoch {
                invalidateLookups(target, written: false)
                target.lookupCacheEpoch = lookupCacheEpoch
            }
            if target.keyMap == nil, let read = target.keyMapRead, read.isFinished {
                target.keyMap = keyMap(from: read, target, waiting: false)
            }
            if let map = target.keyMap, map.column == column, case .string(let text) = value, let id = map.id(for: text) {
                return (id, reference.entity)
            }
            let key = LookupCacheKey(column: column, value: value)
            if let id = target.lookupCache[key] { return (id, reference.entity) }
            cacheKey = key
        }
        switch try normalizedLocator(reference, target, db) {
        case .id(let id):
            guard try RawStatement.fetchFirstRow(db, db.cachedStatement(sql: target.existsByIDSQL), [id.description.databaseValue]) != nil else {
                throw notFound(reference)
            }
            return (id, reference.entity)
        case .keys(let key, let values):
            guard let text = try RawStatement.fetchText(db, db.cachedStatement(sql: target.keySQL[key.name]!.selectID), values),
                  let id = RecordID(text) else { throw notFound(reference) }
            if let cacheKey {
                if target.lookupCache.count >= Self.lookupCacheLimit { target.lookupCache.removeAll() }
                target.lookupCache[cacheKey] = id
                // the key map only speeds later lookups: failing to read it must not fail this write
                try? noteLookupMiss(target, column: cacheKey.column, db)
            }
            return (id, reference.entity)
        }
    }

    /// A bulk load's lookup: the id of a reference by a text key of the column's last target,
    /// from that target's key map (which `resolveLookup`'s general path made, after checking
    /// the target); nil when the map does not answer it.
    func mappedLookup(_ given: EntityReference, _ column: EntityTable.Column) -> RecordID? {
        guard isWriting, let last = column.lastTarget, last.generation == catalogGeneration.load(ordering: .sequentiallyConsistent),
              last.table.name == given.entity, last.table.lookupCacheEpoch == lookupCacheEpoch, let map = last.table.keyMap
        else { return nil }
        return given.answer(forTextKey: map.column, map.id(for:))
    }

    /// The first row of a statement that selects `table.selectList`.
    /// With `reading`, only the columns it marks are read from SQLite (the others stay nil).
    func fetchRow(_ db: Database, _ sql: String, _ arguments: [DatabaseValue], _ table: EntityTable,
                  reading mask: [Bool]? = nil) throws -> StoredRow? {
        try RawStatement.fetchFirstRow(db, db.cachedStatement(sql: sql), arguments, reading: mask).map { StoredRow(table, values: $0) }
    }
}
