import EntityModel
import GRDB

extension EntityStore {
    /// Resolves, ahead of a batch, the lookup targets its writes name by a single-column text
    /// key: one `SELECT key, id … WHERE key IN (…)` per target and key column instead of one
    /// query per record. It only fills the lookup cache; every write still resolves its
    /// lookups itself, so a target the batch creates, renames or deletes first is handled as
    /// before (writes to an entity drop its cache entries), and anything not found here is
    /// looked up again, and reported, by the write that needs it.
    func prefetchLookups(_ requests: [ServiceRequest], _ db: Database) throws {
        var wanted: [String: [String: Set<String>]] = [:]  // target → key column → values
        for request in requests {
            let fields: [String: FieldValue]
            switch request {
            case .create(_, _, let given), .update(_, let given, _), .upsert(_, let given, _): fields = given
            default: continue
            }
            for value in fields.values {
                guard case .reference(let target) = value, case .keys(let keys) = target.locator, keys.count == 1,
                      let (column, key) = keys.first, case .string(let text) = key else { continue }
                if lookupCache[target.entity]?[LookupCacheKey(column: column, value: key)] != nil { continue }
                wanted[target.entity, default: [:]][column, default: []].insert(text)
            }
        }
        for (entity, columns) in wanted {
            guard let table = catalog[entity] else { continue }
            for (column, values) in columns {
                guard let key = table.singleColumnKeys[column], let attribute = table.columnByName[column]?.attribute,
                      attribute.type == .string else { continue }
                _ = key
                let usable = values.filter { text in !text.utf8.contains(where: { Self.forbiddenKeyBytes.contains($0) }) }
                if (lookupCache[entity]?.count ?? 0) + usable.count > Self.lookupCacheLimit { continue }
                let list = Array(usable)
                for start in stride(from: 0, to: list.count, by: 500) {
                    let chunk = list[start..<min(start + 500, list.count)]
                    let sql = "SELECT \(quoteIdentifier(column)), \(quoteIdentifier(table.primaryKey)) FROM \(table.quotedTable) WHERE \(quoteIdentifier(column)) IN (\(Array(repeating: "?", count: chunk.count).joined(separator: ", ")))"
                    // text keys compare ignoring ASCII case (COLLATE NOCASE), so match the stored
                    // spelling back to the requested one the same way
                    var found: [String: RecordID] = [:]
                    try RawStatement.forEachRow(db, db.cachedStatement(sql: sql), chunk.map { $0.databaseValue }) { row in
                        guard let stored = row[0].flatMap(String.fromDatabaseValue),
                              let id = row[1].flatMap(String.fromDatabaseValue).flatMap(RecordID.init) else { return }
                        found[Self.asciiFolded(stored)] = id
                    }
                    for text in chunk {
                        if let id = found[Self.asciiFolded(text)] {
                            lookupCache[entity, default: [:]][LookupCacheKey(column: column, value: .string(text))] = id
                        }
                    }
                }
            }
        }
    }

    /// ASCII letters lower-cased, as SQLite's NOCASE collation compares them.
    static func asciiFolded(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 >= 65 && $0 <= 90 }) else { return text }
        return String(decoding: text.utf8.map { $0 >= 65 && $0 <= 90 ? $0 + 32 : $0 }, as: UTF8.self)
    }
}
