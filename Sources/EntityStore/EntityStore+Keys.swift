import EntityModel
import GRDB

extension EntityStore {
    /// Adds an alternate key in status Pending (SPEC §1 rule 6); `processKeyJobs()` builds its index.
    /// - Throws: `0x8006088f`, `0x80060893`, `0x80060894` or `0x80060895`; nothing is added then.
    public func createKey(entity: String, name: String, columns: [String]) throws {
        var definition = try table(entity).definition
        let key = AlternateKeyDefinition(name: name, columns: columns, status: .pending)
        try SchemaValidator.validateKey(key, in: definition)
        definition.keys.append(key)
        try saveDefinition(definition)
    }

    /// Removes an alternate key and drops its index (a pending job is cancelled).
    /// - Throws: `0x80060890` when there is no such key.
    public func deleteKey(entity: String, name: String) throws {
        var definition = try table(entity).definition
        guard definition.keys.contains(where: { $0.name == name }) else {
            throw ServiceError(.entityKeyNotDefined, "The key '\(name)' is not defined on '\(entity)'.", entity: entity)
        }
        definition.keys.removeAll { $0.name == name }
        try write { context in
            try context.db.execute(sql: "DROP INDEX IF EXISTS \(Self.keyIndexName(entity, name))")
            try SystemTables.saveDefinition(context.db, definition)
        }
        try loadCatalog()
    }

    /// Puts a Failed key back to Pending so the next job retries it.
    /// - Throws: `0x80060897` when the key is not Failed; `0x80060890` when it does not exist.
    public func reactivateKey(entity: String, name: String) throws {
        var definition = try table(entity).definition
        guard let index = definition.keys.firstIndex(where: { $0.name == name }) else {
            throw ServiceError(.entityKeyNotDefined, "The key '\(name)' is not defined on '\(entity)'.", entity: entity)
        }
        guard definition.keys[index].status == .failed else {
            throw ServiceError(.reactivateEntityKeyOnlyForFailedJobs,
                "The key '\(name)' can only be reactivated when its index job failed; it is \(definition.keys[index].status.rawValue).",
                entity: entity)
        }
        definition.keys[index].status = .pending
        try saveDefinition(definition)
    }

    /// Runs the index jobs of all Pending keys: each becomes Active, or Failed when existing
    /// rows already share its values. Returns `entity.key` → status for each job run.
    @discardableResult
    public func processKeyJobs() throws -> [String: KeyIndexStatus] {
        var results: [String: KeyIndexStatus] = [:]
        try write { context in
            for table in catalog.values where table.definition.keys.contains(where: { $0.status == .pending }) {
                var definition = table.definition
                for index in definition.keys.indices where definition.keys[index].status == .pending {
                    let key = definition.keys[index]
                    let status: KeyIndexStatus = try hasDuplicates(table, key, context.db) ? .failed : .active
                    if status == .active { try createKeyIndex(table, key, context.db) }
                    definition.keys[index].status = status
                    results["\(table.name).\(key.name)"] = status
                }
                try SystemTables.saveDefinition(context.db, definition)
            }
        }
        try loadCatalog()
        return results
    }

    /// Enables change tracking; disabling a tracked entity is refused (SPEC §3 rule 1).
    /// - Throws: `schema.invalid` when asked to disable tracking.
    public func setChangeTracking(entity: String, enabled: Bool) throws {
        var definition = try table(entity).definition
        if definition.changeTracking == enabled { return }
        guard enabled else {
            throw ServiceError(.schemaInvalid, "Entity '\(entity)': change tracking cannot be disabled once enabled.", entity: entity)
        }
        definition.changeTracking = true
        try write { context in
            try context.db.execute(sql: "CREATE INDEX IF NOT EXISTS \(quoteIdentifier("ix_\(entity)_versionnumber")) ON \(quoteIdentifier(entity))(versionnumber)")
            try SystemTables.saveDefinition(context.db, definition)
        }
        try loadCatalog()
    }

    static func keyIndexName(_ entity: String, _ key: String) -> String {
        quoteIdentifier("ak_\(entity)__\(key)")
    }

    private func saveDefinition(_ definition: EntityDefinition) throws {
        try write { context in try SystemTables.saveDefinition(context.db, definition) }
        try loadCatalog()
    }

    private func hasDuplicates(_ table: EntityTable, _ key: AlternateKeyDefinition, _ db: Database) throws -> Bool {
        let columns = key.columns.map(quoteIdentifier).joined(separator: ", ")
        let notNull = key.columns.map { "\(quoteIdentifier($0)) IS NOT NULL" }.joined(separator: " AND ")
        let sql = "SELECT 1 FROM \(table.quotedTable) WHERE \(notNull) GROUP BY \(columns) HAVING count(*) > 1 LIMIT 1"
        return try Int.fetchOne(db, sql: sql) != nil
    }

    private func createKeyIndex(_ table: EntityTable, _ key: AlternateKeyDefinition, _ db: Database) throws {
        let columns = key.columns.map(quoteIdentifier).joined(separator: ", ")
        let notNull = key.columns.map { "\(quoteIdentifier($0)) IS NOT NULL" }.joined(separator: " AND ")
        try db.execute(sql: "CREATE UNIQUE INDEX IF NOT EXISTS \(Self.keyIndexName(table.name, key.name)) ON \(table.quotedTable)(\(columns)) WHERE \(notNull)")
    }
}
