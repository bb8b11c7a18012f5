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
    /// another primary name column, another state model).
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
                try checkCompatible(attribute, current, entity: existing.name)
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

    private func checkCompatible(_ wanted: AttributeDefinition, _ current: AttributeDefinition, entity: String) throws {
        guard wanted.type == current.type else {
            throw ServiceError(.schemaInvalid,
                "Entity '\(entity)': the column '\(wanted.name)' is \(current.type.rawValue) in the store; changing it to \(wanted.type.rawValue) is not supported.",
                entity: entity)
        }
    }
}
