import DataFiles
import EntityModel
import Foundation

/// A record's `$expand`: single-valued navigation properties (lookups), each with the
/// related record's columns (`primarycontactid($select=fullname,emailaddress1)`).
struct ExpandOption {
    /// One expanded navigation property.
    struct Item {
        /// The navigation property as written: `primarycontactid`, `parentcustomerid_account`.
        var navigation: String
        /// The lookup column it follows.
        var column: String
        /// Only records of this entity are shown (for `column_target` navigation properties).
        var target: String?
        /// The entity whose primary key and primary name are shown without `$select`.
        var defaultTarget: String?
        /// The related record's columns; nil when the option had no `$select`.
        var select: [String]?
        /// True for `column_target`: only records of one of the lookup's targets, read by the
        /// HTTP layer (the engine's expansion reads the same columns from every target).
        var isTargeted: Bool { navigation != column }
    }

    /// The items in the order written.
    var items: [Item]

    var isEmpty: Bool { items.isEmpty }

    /// Parses `$expand` for an entity. Unknown names are passed on as columns, so the engine
    /// answers them as it answers any unknown column.
    /// - Throws: `0x80060888` for malformed text, a navigation property given twice, or nested
    ///   options other than `$select`; 501 for nested `$expand` and for two navigation
    ///   properties of one lookup.
    init(_ text: String?, _ definition: EntityDefinition) throws {
        items = []
        guard let text else { return }
        for part in try Self.split(text) {
            let navigation = String(part.prefix { $0 != "(" }).trimmingWhitespace()
            guard !navigation.isEmpty else { throw Self.malformed(text) }
            var item = Self.item(navigation, definition)
            if part.count > navigation.count {
                guard part.hasSuffix(")") else { throw Self.malformed(text) }
                let inner = part.drop { $0 != "(" }.dropFirst().dropLast()
                item.select = try Self.select(String(inner), navigation: navigation)
            }
            // the same navigation property twice is the client's mistake, not a missing feature
            if items.contains(where: { $0.navigation.lowercased() == navigation.lowercased() }) {
                throw ServiceError(.invalidKey, "Bad Request - Error in query syntax: '\(navigation)' is expanded twice in the $expand '\(text)'.")
            }
            // one lookup may be expanded once, or once per target (`parentcustomerid_account`, `…_contact`)
            guard !items.contains(where: { $0.column == item.column && !($0.isTargeted && item.isTargeted && $0.target != item.target) }) else {
                throw ServiceError(.notImplemented, "cdsync serve expands one navigation property per lookup; '\(navigation)' repeats '\(item.column)'.")
            }
            items.append(item)
        }
    }

    /// The engine's expansion: lookup column → the related record's columns (the target's
    /// primary key and primary name when no `$select` was given).
    func engineExpand(_ catalog: Catalog) -> [String: [String]] {
        var result: [String: [String]] = [:]
        for item in items where !item.isTargeted {
            if let select = item.select, !select.isEmpty {
                result[item.column] = select
            } else if let target = catalog.entity(named: item.defaultTarget ?? "") {
                result[item.column] = [target.primaryIdAttribute] + (target.primaryNameAttribute.map { [$0] } ?? [])
            } else {
                result[item.column] = []
            }
        }
        return result
    }

    /// The `$select` written for an item, or the default the engine was given.
    func shownColumns(_ item: Item, _ related: EntityDefinition) -> [String] {
        if let select = item.select, !select.isEmpty { return select }
        return [related.primaryIdAttribute] + (related.primaryNameAttribute.map { [$0] } ?? [])
    }

    /// A record's JSON with each expanded record inline as its navigation property, right
    /// after the lookup's `_x_value` (null when the lookup is empty or points elsewhere).
    func inline(_ json: JSONValue, _ record: Record, _ catalog: Catalog) -> JSONValue {
        guard case .object(var members) = json, !items.isEmpty else { return json }
        for item in items {
            var value: JSONValue = .null
            if let related = record.related[item.column], item.target == nil || item.target == related.entity,
               let definition = catalog.entity(named: related.entity) {
                value = RecordJSON.object(related, definition, select: shownColumns(item, definition))
            }
            let property = "_\(item.column)_value"
            let after = members.lastIndex { $0.0 == property || $0.0.hasPrefix(property + "@") }
            members.insert((item.navigation, value), at: after.map { $0 + 1 } ?? members.endIndex)
        }
        return .object(members)
    }

    /// `primarycontactid(fullname)` pieces for the `@odata.context` of a response.
    var contextText: [String] {
        items.map { item in item.select.map { "\(item.navigation)(\($0.joined(separator: ",")))" } ?? "\(item.navigation)()" }
    }

    /// The column and target a navigation property names: the lookup column itself, or
    /// `column_target` for a lookup with several targets.
    private static func item(_ navigation: String, _ definition: EntityDefinition) -> Item {
        if let attribute = definition.attribute(navigation), attribute.type.isReference {
            let targets = attribute.targets ?? []
            return Item(navigation: navigation, column: navigation, target: targets.count == 1 ? targets[0] : nil, defaultTarget: targets.first)
        }
        for attribute in definition.allAttributes where attribute.type.isReference {
            for target in attribute.targets ?? [] where navigation == "\(attribute.name)_\(target)" {
                return Item(navigation: navigation, column: attribute.name, target: target, defaultTarget: target)
            }
        }
        return Item(navigation: navigation, column: navigation, target: nil, defaultTarget: nil)
    }

    /// The nested options of one item: `$select=a,b` (`;`-separated options).
    private static func select(_ inner: String, navigation: String) throws -> [String]? {
        var select: [String]?
        for option in inner.split(separator: ";").map({ $0.trimmingWhitespace() }) where !option.isEmpty {
            if option.hasPrefix("$select=") {
                select = option.dropFirst("$select=".count).split(separator: ",").map { $0.trimmingWhitespace() }
            } else if option.hasPrefix("$expand=") {
                throw ServiceError(.notImplemented, "cdsync serve does not expand inside an expanded record ('\(navigation)').")
            } else {
                let name = option.prefix { $0 != "=" }
                throw ServiceError(.invalidKey, "The query option '\(name)' is not supported inside $expand of the single-valued navigation property '\(navigation)'.")
            }
        }
        return select
    }

    /// Splits on commas outside parentheses.
    private static func split(_ text: String) throws -> [String] {
        var parts: [String] = []
        var current = ""
        var depth = 0
        for char in text {
            if char == "(" { depth += 1 } else if char == ")" { depth -= 1 }
            guard depth >= 0 else { throw malformed(text) }
            if char == "," && depth == 0 { parts.append(current); current = "" } else { current.append(char) }
        }
        guard depth == 0 else { throw malformed(text) }
        parts.append(current)
        return parts.map { $0.trimmingWhitespace() }
    }

    private static func malformed(_ text: String) -> ServiceError {
        ServiceError(.invalidKey, "Bad Request - Error in query syntax: the $expand '\(text)' is malformed.")
    }
}
