import EntityModel
import Foundation
import GRDB

extension EntityStore: TokenStore {
    /// The token saved under a name, nil when none.
    public func token(named name: String) throws -> SavedToken? {
        try read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM \(SystemTables.tokens) WHERE name = ?", arguments: [name]).map(Self.savedToken)
        }
    }

    /// Saves (or replaces) a token.
    public func saveToken(_ token: SavedToken) throws {
        try write { context in
            try context.db.execute(sql: """
                INSERT INTO \(SystemTables.tokens)(name, token, entity, updated_at) VALUES (?, ?, ?, ?)
                ON CONFLICT(name) DO UPDATE SET token = excluded.token, entity = excluded.entity, updated_at = excluded.updated_at
                """, arguments: [token.name, token.token, token.entity, Int64(token.updatedAt.timeIntervalSince1970 * 1000)])
        }
    }

    /// All saved tokens, sorted by name.
    public func allTokens() throws -> [SavedToken] {
        try read { db in try Row.fetchAll(db, sql: "SELECT * FROM \(SystemTables.tokens) ORDER BY name").map(Self.savedToken) }
    }

    /// Forgets a token. Returns whether it existed.
    public func removeToken(named name: String) throws -> Bool {
        try write { context in
            try context.db.execute(sql: "DELETE FROM \(SystemTables.tokens) WHERE name = ?", arguments: [name])
            return context.db.changesCount > 0
        }
    }

    private static func savedToken(_ row: Row) -> SavedToken {
        SavedToken(name: row["name"], token: row["token"], entity: row["entity"] ?? "",
                   updatedAt: Date(timeIntervalSince1970: Double(row["updated_at"] as Int64) / 1000))
    }
}
