import EntityModel
import Foundation
import GRDB

/// The store's own tables: metadata, entity definitions, tombstones, named tokens and run history.
enum SystemTables {
    static let entities = "_cdsync_entities"
    static let tombstones = "_cdsync_tombstones"
    static let tokens = "_cdsync_tokens"
    static let runs = "_cdsync_runs"

    /// Every system table and index with the statement that makes it, in creation order.
    private static let objects: [(name: String, sql: String)] = [
        (StoreMeta.table, "CREATE TABLE IF NOT EXISTS \(StoreMeta.table) (key TEXT PRIMARY KEY, value INTEGER NOT NULL)"),
        (entities, "CREATE TABLE IF NOT EXISTS \(entities) (name TEXT PRIMARY KEY, definition TEXT NOT NULL)"),
        (tombstones, """
            CREATE TABLE IF NOT EXISTS \(tombstones) (
                version INTEGER PRIMARY KEY, entity TEXT NOT NULL, id TEXT NOT NULL, deleted_at INTEGER NOT NULL, key TEXT)
            """),
        ("_cdsync_tombstones_entity", "CREATE INDEX IF NOT EXISTS _cdsync_tombstones_entity ON \(tombstones)(entity, version)"),
        (tokens, "CREATE TABLE IF NOT EXISTS \(tokens) (name TEXT PRIMARY KEY, token TEXT NOT NULL, entity TEXT, updated_at INTEGER NOT NULL)"),
        (runs, """
            CREATE TABLE IF NOT EXISTS \(runs) (
                id INTEGER PRIMARY KEY AUTOINCREMENT, job TEXT NOT NULL, script TEXT NOT NULL, pid INTEGER NOT NULL,
                host TEXT NOT NULL, started_at INTEGER NOT NULL, ended_at INTEGER, outcome TEXT NOT NULL, exit_code INTEGER,
                created INTEGER NOT NULL DEFAULT 0, updated INTEGER NOT NULL DEFAULT 0, unchanged INTEGER NOT NULL DEFAULT 0,
                deleted INTEGER NOT NULL DEFAULT 0, failed INTEGER NOT NULL DEFAULT 0,
                tokens_before TEXT NOT NULL, tokens_after TEXT, error TEXT)
            """),
        ("_cdsync_runs_job", "CREATE INDEX IF NOT EXISTS _cdsync_runs_job ON \(runs)(job, id)"),
    ]
    /// The meta rows every store has, with their first values.
    private static let metaRows: [(key: String, value: Int)] = [("version", 0), ("purged_version", 0), ("format", 1)]

    /// True when every object, column and meta row `create` makes is there, so opening a store
    /// needs no write (and does not wait for a run that is writing).
    static func isCurrent(_ db: Database) throws -> Bool {
        let names = Set(try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type IN ('table', 'index')"))
        guard objects.allSatisfy({ names.contains($0.name) }), try tombstonesHaveKeys(db) else { return false }
        let present = Set(try String.fetchAll(db, sql: "SELECT key FROM \(StoreMeta.table)"))
        return metaRows.allSatisfy { present.contains($0.key) }
    }

    /// The tables of a database that is not a cdsync store (no meta table, tables of its own);
    /// empty for a new file and for a store of any version.
    static func foreignTables(_ db: Database) throws -> [String] {
        let names = try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name")
        return names.contains(StoreMeta.table) ? [] : names
    }

    static func create(_ db: Database) throws {
        for object in objects { try db.execute(sql: object.sql) }
        for row in metaRows {
            try db.execute(sql: "INSERT OR IGNORE INTO \(StoreMeta.table)(key, value) VALUES (?, ?)", arguments: [row.key, row.value])
        }
        // stores made before tombstones kept the deleted record's key
        if try !tombstonesHaveKeys(db) {
            try db.execute(sql: "ALTER TABLE \(tombstones) ADD COLUMN key TEXT")
        }
    }

    private static func tombstonesHaveKeys(_ db: Database) throws -> Bool {
        try Row.fetchAll(db, sql: "PRAGMA table_info(\(tombstones))").contains { ($0["name"] as String) == "key" }
    }

    static func loadDefinitions(_ db: Database) throws -> [EntityDefinition] {
        let decoder = JSONDecoder()
        return try String.fetchAll(db, sql: "SELECT definition FROM \(entities) ORDER BY name").map {
            try decoder.decode(EntityDefinition.self, from: Data($0.utf8))
        }
    }

    static func saveDefinition(_ db: Database, _ definition: EntityDefinition) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json = String(decoding: try encoder.encode(definition), as: UTF8.self)
        try db.execute(sql: "INSERT INTO \(entities)(name, definition) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET definition = excluded.definition",
                       arguments: [definition.name, json])
        // other connections (another run, serve, a REPL) see the catalog changed and reload it
        try StoreMeta.setInteger(db, catalogStampKey, (try catalogStamp(db)) &+ 1)
    }

    /// The key of the counter every saved definition bumps (`_cdsync_meta`).
    static let catalogStampKey = "catalog"

    /// The catalog's counter: it changes whenever a definition is saved (0 before the first).
    static func catalogStamp(_ db: Database) throws -> Int64 { try StoreMeta.integer(db, catalogStampKey) ?? 0 }
}
