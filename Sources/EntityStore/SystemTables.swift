import EntityModel
import Foundation
import GRDB

/// The store's own tables: metadata, entity definitions, tombstones, named tokens and run history.
enum SystemTables {
    static let entities = "_cdsync_entities"
    static let tombstones = "_cdsync_tombstones"
    static let tokens = "_cdsync_tokens"
    static let runs = "_cdsync_runs"

    /// True when every system table, index, column and meta row `create` makes is there, so
    /// opening a store needs no write (and does not wait for a run that is writing).
    static func isCurrent(_ db: Database) throws -> Bool {
        let names = Set(try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type IN ('table', 'index')"))
        let wanted = [StoreMeta.table, entities, tombstones, "_cdsync_tombstones_entity", tokens, runs, "_cdsync_runs_job"]
        guard wanted.allSatisfy(names.contains) else { return false }
        let tombstoneColumns = try Row.fetchAll(db, sql: "PRAGMA table_info(\(tombstones))").map { $0["name"] as String }
        guard tombstoneColumns.contains("key") else { return false }
        let metaKeys = try Int.fetchOne(db, sql: "SELECT count(*) FROM \(StoreMeta.table) WHERE key IN ('version', 'purged_version', 'format')") ?? 0
        return metaKeys == 3
    }

    static func create(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE IF NOT EXISTS \(StoreMeta.table) (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
            CREATE TABLE IF NOT EXISTS \(entities) (name TEXT PRIMARY KEY, definition TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS \(tombstones) (
                version INTEGER PRIMARY KEY, entity TEXT NOT NULL, id TEXT NOT NULL, deleted_at INTEGER NOT NULL, key TEXT);
            CREATE INDEX IF NOT EXISTS _cdsync_tombstones_entity ON \(tombstones)(entity, version);
            CREATE TABLE IF NOT EXISTS \(tokens) (
                name TEXT PRIMARY KEY, token TEXT NOT NULL, entity TEXT, updated_at INTEGER NOT NULL);
            CREATE TABLE IF NOT EXISTS \(runs) (
                id INTEGER PRIMARY KEY AUTOINCREMENT, job TEXT NOT NULL, script TEXT NOT NULL, pid INTEGER NOT NULL,
                host TEXT NOT NULL, started_at INTEGER NOT NULL, ended_at INTEGER, outcome TEXT NOT NULL, exit_code INTEGER,
                created INTEGER NOT NULL DEFAULT 0, updated INTEGER NOT NULL DEFAULT 0, unchanged INTEGER NOT NULL DEFAULT 0,
                deleted INTEGER NOT NULL DEFAULT 0, failed INTEGER NOT NULL DEFAULT 0,
                tokens_before TEXT NOT NULL, tokens_after TEXT, error TEXT);
            CREATE INDEX IF NOT EXISTS _cdsync_runs_job ON \(runs)(job, id);
            INSERT OR IGNORE INTO \(StoreMeta.table)(key, value) VALUES ('version', 0), ('purged_version', 0), ('format', 1);
            """)
        let tombstoneColumns = try Row.fetchAll(db, sql: "PRAGMA table_info(\(tombstones))").map { $0["name"] as String }
        if !tombstoneColumns.contains("key") {
            try db.execute(sql: "ALTER TABLE \(tombstones) ADD COLUMN key TEXT")
        }
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
    }
}
