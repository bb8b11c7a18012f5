import EntityModel
import GRDB

/// What applying a schema changed.
public struct SchemaChanges: Sendable, Equatable {
    /// Entities created.
    public var createdEntities: [String] = []
    /// Columns added, as `entity.column`.
    public var addedColumns: [String] = []
    /// Keys added, as `entity.key`, with the status they reached.
    public var addedKeys: [String: KeyIndexStatus] = [:]
    /// Settings of existing entities changed, as `entity: setting` (change tracking turned on,
    /// another primary name column, another state model, a column's length, bounds, options or
    /// requirement).
    public var changedSettings: [String] = []
    /// True when nothing changed.
    public var isEmpty: Bool { createdEntities.isEmpty && addedColumns.isEmpty && addedKeys.isEmpty && changedSettings.isEmpty }
}

extension EntityStore {
    /// Applies entity definitions: creates new entities, adds new columns and keys to existing
    /// ones, then runs the key index jobs. Applying the same schema twice changes nothing.
    /// - Throws: `schema.invalid`, or a key error (`0x8006088f`, `0x80060893`–`0x80060895`); nothing is applied then.
    ///   `store.unavailable` when the store fails; if it fails while building the key indexes,
    ///   after the rest was committed, the message says so (the keys stay Pending).
    @discardableResult
    public func applySchema(_ definitions: [EntityDefinition]) throws -> SchemaChanges {
        var changes = SchemaChanges()
        var listed = Set<String>()
        for definition in definitions where !listed.insert(definition.name).inserted {
            throw ServiceError(.schemaInvalid, "Entity '\(definition.name)' is listed twice; give each entity once.", entity: definition.name)
        }
        do {
            try write { context in
                // the schema as it is now, under the write lock: another process may have applied
                // a schema since this store was opened, and merging into what was read then would
                // save definitions without that one's columns
                catalog = Dictionary(try SystemTables.loadDefinitions(context.db).map { ($0.name, EntityTable($0)) },
                                     uniquingKeysWith: { _, last in last })
                let known = Set(catalog.keys).union(definitions.map(\.name))
                for definition in definitions {
                    if let existing = catalog[definition.name]?.definition {
                        try merge(definition, into: existing, known: known, context, &changes)
                    } else {
                        try create(definition, known: known, context, &changes)
                    }
                }
            }
        } catch {
            try loadCatalog()
            throw error
        }
        try loadCatalog()
        let built: [String: KeyIndexStatus]
        do { built = try processKeyJobs() } catch {
            // the entities and columns are committed by now: say so, rather than "nothing applied"
            let reason = (error as? ServiceError)?.message ?? "\(error)"
            throw ServiceError(.storeUnavailable, "The schema was applied, but building its key indexes failed: \(reason) "
                               + "The keys stay Pending; applying the file again builds them.")
        }
        for (name, status) in built where changes.addedKeys[name] != nil {
            changes.addedKeys[name] = status
        }
        return changes
    }

    private func create(_ given: EntityDefinition, known: Set<String>, _ context: WriteContext,
                        _ changes: inout SchemaChanges) throws {
        var definition = given
        let keys = definition.keys
        definition.keys = []
        try SchemaValidator.validateNewEntityName(definition.name)
        if let other = catalog.values.first(where: { $0.definition.setName == definition.setName }) {
            throw ServiceError(.schemaInvalid, "Entity '\(definition.name)': the entity set name '\(definition.setName)' is taken by '\(other.name)'.",
                               entity: definition.name)
        }
        for attribute in definition.attributes { try SchemaValidator.validateSettingsApply(attribute, entity: definition.name) }
        try SchemaValidator.validate(definition, knownEntities: known)
        for key in keys {
            try SchemaValidator.validateKey(key, in: definition)
            definition.keys.append(AlternateKeyDefinition(name: key.name, columns: key.columns, status: .pending))
            changes.addedKeys["\(definition.name).\(key.name)"] = .pending
        }
        let table = EntityTable(definition)
        try context.db.execute(sql: table.createTableSQL)
        try createIndexes(table, context.db)
        try SystemTables.saveDefinition(context.db, definition)
        catalog[definition.name] = table
        changes.createdEntities.append(definition.name)
    }

    private func createIndexes(_ table: EntityTable, _ db: Database) throws {
        let name = table.name
        if table.definition.changeTracking {
            try db.execute(sql: "CREATE INDEX IF NOT EXISTS \(quoteIdentifier("ix_\(name)_versionnumber")) ON \(table.quotedTable)(versionnumber)")
        }
        // Partial: rows whose lookup is empty cost no index maintenance; `col = ?` (finding the
        // rows that point at a record) still uses the index.
        for attribute in table.attributes where attribute.type == .lookup {
            let column = quoteIdentifier(attribute.name)
            try db.execute(sql: "CREATE INDEX IF NOT EXISTS \(quoteIdentifier("ix_\(name)_\(attribute.name)")) ON \(table.quotedTable)(\(column)) WHERE \(column) IS NOT NULL")
        }
    }

    private func merge(_ given: EntityDefinition, into existing: EntityDefinition, known: Set<String>,
                       _ context: WriteContext, _ changes: inout SchemaChanges) throws {
        var definition = existing
        if existing.changeTracking && !given.changeTracking {
            throw ServiceError(.schemaInvalid, "Entity '\(existing.name)': change tracking cannot be disabled once enabled.", entity: existing.name)
        }
        definition.changeTracking = existing.changeTracking || given.changeTracking
        definition.states = given.states
        definition.primaryNameAttribute = given.primaryNameAttribute ?? existing.primaryNameAttribute
        if definition.changeTracking != existing.changeTracking { changes.changedSettings.append("\(existing.name): change tracking turned on") }
        if definition.primaryNameAttribute != existing.primaryNameAttribute {
            changes.changedSettings.append("\(existing.name): primary name column \(definition.primaryNameAttribute ?? "none")")
        }
        if definition.states != existing.states {
            if definition.hasStateModel { try checkStoredStates(definition, context.db) }
            changes.changedSettings.append("\(existing.name): state model replaced")
        }
        for attribute in given.attributes {
            if existing.attribute(attribute.name) == nil || existing.attributes.contains(where: { $0.name == attribute.name }) {
                try SchemaValidator.validateSettingsApply(attribute, entity: existing.name)
            }
            if let current = existing.attribute(attribute.name) {
                let reconciled = try reconcile(attribute, current, existing, known, context.db, &changes)
                if reconciled != current, let index = definition.attributes.firstIndex(where: { $0.name == current.name }) {
                    definition.attributes[index] = reconciled
                }
                continue
            }
            definition.attributes.append(attribute)
            changes.addedColumns.append("\(existing.name).\(attribute.name)")
        }
        try SchemaValidator.validate(definition, knownEntities: known)
        try checkKeySizes(definition, was: existing)
        let table = EntityTable(definition)
        for column in changes.addedColumns where column.hasPrefix(existing.name + ".") {
            let attribute = table.attributeByName[String(column.dropFirst(existing.name.count + 1))]!
            for declaration in EntityTable.columnDeclarations(attribute, primaryKey: table.primaryKey,
                                                              typed: table.typedLookups.contains(attribute.name)) {
                try context.db.execute(sql: "ALTER TABLE \(table.quotedTable) ADD COLUMN \(declaration)")
            }
        }
        for key in given.keys where !existing.keys.contains(where: { $0.name == key.name && $0.columns == key.columns }) {
            try SchemaValidator.validateKey(key, in: definition)
            definition.keys.append(AlternateKeyDefinition(name: key.name, columns: key.columns, status: .pending))
            changes.addedKeys["\(definition.name).\(key.name)"] = .pending
        }
        let merged = EntityTable(definition)
        try createIndexes(merged, context.db)
        try SystemTables.saveDefinition(context.db, definition)
        catalog[definition.name] = merged
    }

    /// Refuses a state model that some stored rows are outside of: their state, or their status
    /// for that state, would no longer exist (as choice options still in use are refused).
    /// - Throws: `schema.invalid` naming a pair no longer allowed, how many rows have it, and one.
    private func checkStoredStates(_ definition: EntityDefinition, _ db: Database) throws {
        let table = quoteIdentifier(definition.name), id = quoteIdentifier(definition.primaryIdAttribute)
        let pairs = try Row.fetchAll(db, sql: "SELECT statecode, statuscode, count(*), min(\(id)) FROM \(table) GROUP BY statecode, statuscode")
        for row in pairs {
            let state: Int64? = row[0], status: Int64? = row[1]
            let count: Int = row[2]
            let allowed = definition.states.contains { option in
                option.value == state && option.statuses.contains { $0.value == status }
            }
            guard !allowed else { continue }
            let pair = "statecode \(state.map(String.init) ?? "null") with statuscode \(status.map(String.init) ?? "null")"
            throw ServiceError(.schemaInvalid,
                "Entity '\(definition.name)': the new state model has no \(pair), which \(count) stored row(s) have "
                + "(one of them: \(definition.primaryIdAttribute) \(row[3] as String? ?? "?")); change those rows first, or keep that state and status.",
                entity: definition.name)
        }
    }

    /// The existing column `current` with the settings `wanted` states (a setting left out keeps
    /// its value), when the store can change it in place: a longer or shorter text, other
    /// bounds, options or requirement, as long as every stored value still fits. Each change is
    /// noted in `changes`. A system column is left as it is (only its type is checked).
    /// - Throws: `schema.invalid` naming the column for another type, other lookup targets or
    ///   decimal places (values are stored by them), invalid settings, and stored values the new
    ///   settings would refuse (how many rows, and one of them).
    private func reconcile(_ wanted: AttributeDefinition, _ current: AttributeDefinition, _ entity: EntityDefinition,
                           _ known: Set<String>, _ db: Database, _ changes: inout SchemaChanges) throws -> AttributeDefinition {
        let name = entity.name
        func refuse(_ reason: String) -> ServiceError {
            ServiceError(.schemaInvalid, "Entity '\(name)': the column '\(current.name)' \(reason)", entity: name)
        }
        guard wanted.type == current.type else {
            throw refuse("is \(current.type.rawValue) in the store; changing it to \(wanted.type.rawValue) is not supported.")
        }
        // system columns (the id, owner, state, version and dates) keep their own settings
        guard entity.attributes.contains(where: { $0.name == current.name }) else { return current }
        if let targets = wanted.targets, Set(targets) != Set(current.targets ?? []) {
            throw refuse("points at \((current.targets ?? []).joined(separator: ", ")) in the store; changing the targets of a lookup is not supported (add a new lookup column).")
        }
        if let precision = wanted.precision, precision != current.effectivePrecision {
            throw refuse("stores its values with \(current.effectivePrecision) decimal places; changing them to \(precision) is not supported (add a new column and copy the values).")
        }
        var updated = current
        if let length = wanted.maxLength { updated.maxLength = length }
        if wanted.minValue != nil { updated.minValue = wanted.minValue }
        if wanted.maxValue != nil { updated.maxValue = wanted.maxValue }
        if let options = wanted.options { updated.options = options }
        if let required = wanted.required { updated.required = required }
        // the settings themselves first (a length of 0, min above max), then the stored values
        try SchemaValidator.validate(updated, knownEntities: known) { ServiceError(.schemaInvalid, "Entity '\(name)': \($0)", entity: name) }

        let table = quoteIdentifier(name), column = quoteIdentifier(current.name), id = quoteIdentifier(entity.primaryIdAttribute)
        func example(_ row: String?) -> String { row.map { " (one of them: \(entity.primaryIdAttribute) \($0))" } ?? "" }
        func note(_ text: String) { changes.changedSettings.append("\(name): column \(current.name) \(text)") }

        if updated.effectiveMaxLength != current.effectiveMaxLength {
            if updated.effectiveMaxLength < current.effectiveMaxLength {
                let length = updated.effectiveMaxLength
                // lengths are UTF-16 code units (as a write counts them), never more than the bytes
                var longer = 0, longest = 0, first: String?
                for row in try Row.fetchAll(db, sql: "SELECT \(id), \(column) FROM \(table) WHERE length(CAST(\(column) AS BLOB)) > ?", arguments: [length]) {
                    let text: String = row[1]
                    let characters = text.utf16.count
                    guard characters > length else { continue }
                    longer += 1
                    if characters > longest { longest = characters; first = row[0] }
                }
                if longer > 0 {
                    throw refuse("holds \(longer) value(s) longer than \(length) characters (UTF-16 code units, as Dataverse counts), the longest \(longest)\(example(first)); shorten them first.")
                }
            }
            note("max_length \(current.effectiveMaxLength) → \(updated.effectiveMaxLength)")
        }
        if updated.minValue != current.minValue || updated.maxValue != current.maxValue {
            func bounds(_ low: Int64?, _ high: Int64?) -> String { "\(low.map(String.init) ?? "none")–\(high.map(String.init) ?? "none")" }
            let outside = try Row.fetchOne(db, sql: """
                SELECT count(*), min(\(column)), max(\(column)), (SELECT \(id) FROM \(table) WHERE \(column) < ?1 OR \(column) > ?2 LIMIT 1)
                FROM \(table) WHERE \(column) < ?1 OR \(column) > ?2
                """, arguments: [updated.minValue ?? Int64.min, updated.maxValue ?? Int64.max])
            if let outside, let count: Int = outside[0], count > 0 {
                let smallest: Int64 = outside[1], largest: Int64 = outside[2]
                throw refuse("holds \(count) value(s) outside \(bounds(updated.minValue, updated.maxValue)), from \(smallest) to \(largest)\(example(outside[3])); change them first.")
            }
            note("bounds \(bounds(current.minValue, current.maxValue)) → \(bounds(updated.minValue, updated.maxValue))")
        }
        if (updated.options ?? []) != (current.options ?? []) {
            let values = { (options: [ChoiceOption]?) in (options ?? []).isEmpty ? "any" : options!.map { String($0.value) }.joined(separator: ", ") }
            // no options at all takes any whole number: nothing stored can be left out
            if let options = updated.options, !options.isEmpty {
                let allowed = Set(options.map(\.value))
                var dropped: [(value: Int64, rows: Int, example: String)] = []
                for row in try Row.fetchAll(db, sql: "SELECT \(column), count(*), min(\(id)) FROM \(table) WHERE \(column) IS NOT NULL GROUP BY 1 ORDER BY 1") {
                    let value: Int64 = row[0]
                    if !allowed.contains(value) { dropped.append((value, row[1], row[2])) }
                }
                if let first = dropped.first {
                    let list = dropped.prefix(10).map { "\($0.value) (\($0.rows) row(s))" }.joined(separator: ", ")
                    throw refuse("holds the value(s) \(list), which the new options leave out\(example(first.example)); keep those options or change the rows first.")
                }
            }
            let before = values(current.options), after = values(updated.options)
            note(before == after ? "options relabelled" : "options \(before) → \(after)")
        }
        if updated.isRequired != current.isRequired {
            if updated.isRequired, let empty = try Row.fetchOne(db, sql: "SELECT count(*), min(\(id)) FROM \(table) WHERE \(column) IS NULL"),
               let count: Int = empty[0], count > 0 {
                throw refuse("is empty in \(count) row(s)\(example(empty[1])); fill them before making it required.")
            }
            note(updated.isRequired ? "required" : "optional")
        }
        return updated
    }

    /// Refuses a file whose longer text columns make an existing key larger than the index
    /// size limit (all of the file's new lengths together), naming the key and its columns.
    private func checkKeySizes(_ definition: EntityDefinition, was existing: EntityDefinition) throws {
        for key in existing.keys {
            let widths = key.columns.map { (column: $0, bytes: definition.attribute($0)?.keyByteWidth ?? 0) }
            let total = widths.reduce(0) { $0 + $1.bytes }
            let before = key.columns.reduce(0) { $0 + (existing.attribute($1)?.keyByteWidth ?? 0) }
            guard total > SchemaValidator.maxKeyBytes, total != before else { continue }
            let columns = widths.map { "\($0.column) \($0.bytes)" }.joined(separator: ", ")
            throw ServiceError(.indexSizeConstraintViolated,
                "Entity '\(definition.name)': the key '\(key.name)' would need \(total) bytes (\(columns)), over the index size limit of \(SchemaValidator.maxKeyBytes) bytes; make its text columns shorter.",
                entity: definition.name)
        }
    }
}
