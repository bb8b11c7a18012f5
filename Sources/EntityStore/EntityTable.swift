import EntityModel
import GRDB

/// An entity definition compiled for SQL: quoted names, attribute lookup, and the
/// columns a row read returns.
final class EntityTable: @unchecked Sendable {
    let definition: EntityDefinition
    let attributes: [AttributeDefinition]
    let attributeByName: [String: AttributeDefinition]
    /// Columns holding a lookup whose target entity must be stored next to the id.
    let typedLookups: Set<String>

    /// `SELECT * … WHERE pk = ?`, built once.
    let selectByIDSQL: String
    /// `SELECT 1 … WHERE pk = ?`, built once.
    let existsByIDSQL: String
    /// Per Active key name: `SELECT * … WHERE c1 = ? AND …` and `SELECT pk … WHERE …`, built once.
    let keySQL: [String: (selectRow: String, selectID: String)]

    init(_ definition: EntityDefinition) {
        self.definition = definition
        attributes = definition.allAttributes
        attributeByName = Dictionary(attributes.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        typedLookups = Set(attributes.filter { $0.type.isReference && ($0.targets?.count ?? 0) > 1 }.map { $0.name })
        let table = quoteIdentifier(definition.name)
        let primaryKey = quoteIdentifier(definition.primaryIdAttribute)
        selectByIDSQL = "SELECT * FROM \(table) WHERE \(primaryKey) = ?"
        existsByIDSQL = "SELECT 1 FROM \(table) WHERE \(primaryKey) = ?"
        var keySQL: [String: (String, String)] = [:]
        for key in definition.keys {
            let predicate = key.columns.map { "\(quoteIdentifier($0)) = ?" }.joined(separator: " AND ")
            keySQL[key.name] = ("SELECT * FROM \(table) WHERE \(predicate)", "SELECT \(primaryKey) FROM \(table) WHERE \(predicate)")
        }
        self.keySQL = keySQL
    }

    var name: String { definition.name }
    var primaryKey: String { definition.primaryIdAttribute }
    var quotedTable: String { quoteIdentifier(definition.name) }

    /// The name of the column that stores a typed lookup's target entity.
    static func typeColumn(_ column: String) -> String { column + "type" }

    /// Every stored column name, type columns included.
    var storedColumns: [String] {
        attributes.flatMap { attribute in
            typedLookups.contains(attribute.name) ? [attribute.name, Self.typeColumn(attribute.name)] : [attribute.name]
        }
    }

    /// SQL column declaration for an attribute (plus its type column).
    static func columnDeclarations(_ attribute: AttributeDefinition, primaryKey: String, typed: Bool) -> [String] {
        let name = quoteIdentifier(attribute.name)
        if attribute.name == primaryKey { return ["\(name) TEXT NOT NULL PRIMARY KEY"] }
        switch attribute.type {
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
