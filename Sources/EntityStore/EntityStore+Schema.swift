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
        if definition.states != existing.states { changes.changedSettings.append("\(existing.name): state model replaced") }
        for attribute in given.attributes {
            if let current = existing.attribute(attribute.name) {
                let reconciled = try reconcile(attribute, current, existing, context.db, &changes)
                if reconciled != current, let index = definition.attributes.firstIndex(where: { $0.name == current.name }) {
                    definition.attributes[index] = reconciled
                }
                continue
            }
            definition.attributes.append(attribute)
            changes.addedColumns.append("\(existing.name).\(attribute.name)")
        }
        try SchemaValidator.validate(definition, knownEntities: known)
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

    /// The existing column `current` with the settings `wanted` states (a setting left out keeps
    /// its value), when the store can change it in place: a longer or shorter text, other
    /// bounds, options or requirement, as long as every stored value still fits. Each change is
    /// noted in `changes`.
    /// - Throws: `schema.invalid` naming the column for another type, other lookup targets or
    ///   decimal places (values are stored by them), and for stored values the new settings
    ///   would refuse (with how many rows, and an example).
    private func reconcile(_ wanted: AttributeDefinition, _ current: AttributeDefinition, _ entity: EntityDefinition,
                           _ db: Database, _ changes: inout SchemaChanges) throws -> AttributeDefinition {
        let name = entity.name
        func refuse(_ reason: String) -> ServiceError {
            ServiceError(.schemaInvalid, "Entity '\(name)': the column '\(current.name)' \(reason)", entity: name)
        }
        guard wanted.type == current.type else {
            throw refuse("is \(current.type.rawValue) in the store; changing it to \(wanted.type.rawValue) is not supported.")
        }
        if let targets = wanted.targets, Set(targets) != Set(current.targets ?? []) {
            throw refuse("points at \((current.targets ?? []).joined(separator: ", ")) in the store; changing the targets of a lookup is not supported (add a new lookup column).")
        }
        if let precision = wanted.precision, precision != current.effectivePrecision {
            throw refuse("stores its values with \(current.effectivePrecision) decimal places; changing them to \(precision) is not supported (add a new column and copy the values).")
        }
        let table = quoteIdentifier(name), column = quoteIdentifier(current.name)
        var updated = current
        func note(_ text: String) { changes.changedSettings.append("\(name): column \(current.name) \(text)") }

        if let length = wanted.maxLength, length != current.effectiveMaxLength {
            if length < current.effectiveMaxLength {
                // SQLite counts code points, a value's length is counted in characters (never more)
                var longer = 0, longest = 0
                for text in try String.fetchAll(db, sql: "SELECT \(column) FROM \(table) WHERE length(\(column)) > ?", arguments: [length]) {
                    let characters = text.count
                    if characters > length { longer += 1; longest = max(longest, characters) }
                }
                if longer > 0 {
                    throw refuse("holds \(longer) value(s) longer than \(length) characters (the longest has \(longest)); shorten them first.")
                }
            }
            updated.maxLength = length
            note("max_length \(current.effectiveMaxLength) → \(length)")
        }
        if (wanted.minValue != nil && wanted.minValue != current.minValue) || (wanted.maxValue != nil && wanted.maxValue != current.maxValue) {
            let low = wanted.minValue ?? current.minValue, high = wanted.maxValue ?? current.maxValue
            let outside = try Row.fetchOne(db, sql: "SELECT count(*), min(\(column)), max(\(column)) FROM \(table) WHERE \(column) < ? OR \(column) > ?",
                                           arguments: [low ?? Int64.min, high ?? Int64.max])
            if let outside, let count: Int = outside[0], count > 0 {
                let smallest: Int64 = outside[1], largest: Int64 = outside[2]
                throw refuse("holds \(count) value(s) outside \(low.map(String.init) ?? "…")–\(high.map(String.init) ?? "…") (from \(smallest) to \(largest)); change them first.")
            }
            updated.minValue = low
            updated.maxValue = high
            note("bounds \(low.map(String.init) ?? "none")–\(high.map(String.init) ?? "none")")
        }
        if let options = wanted.options, options != (current.options ?? []) {
            let allowed = Set(options.map(\.value))
            let used = try Int64.fetchAll(db, sql: "SELECT DISTINCT \(column) FROM \(table) WHERE \(column) IS NOT NULL ORDER BY 1")
            let dropped = used.filter { !allowed.contains($0) }
            if !dropped.isEmpty {
                throw refuse("holds the value(s) \(dropped.prefix(10).map(String.init).joined(separator: ", ")), which the new options leave out; keep those options or change the rows first.")
            }
            updated.options = options
            note("options replaced (\(options.count))")
        }
        if let required = wanted.required, required != current.isRequired {
            if required, let empty = try Int.fetchOne(db, sql: "SELECT count(*) FROM \(table) WHERE \(column) IS NULL"), empty > 0 {
                throw refuse("is empty in \(empty) row(s); fill them before making it required.")
            }
            updated.required = required
            note(required ? "required" : "optional")
        }
        if updated.maxLength != current.maxLength {
            // a longer text column can make a key over the index size limit
            var changed = entity
            changed.attributes = entity.attributes.map { $0.name == current.name ? updated : $0 }
            for key in entity.keys where key.columns.contains(current.name) {
                changed.keys = entity.keys.filter { $0.name != key.name }
                try SchemaValidator.validateKey(key, in: changed)
            }
        }
        return updated
    }
}
