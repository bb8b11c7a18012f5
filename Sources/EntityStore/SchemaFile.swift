import EntityModel
import Foundation
import YAMLLimits
import Yams

/// The schema file format (YAML): a list of entities with their columns, keys and state model.
/// Omitted settings keep their defaults for a new entity, or their current value for an existing one.
///
/// ```yaml
/// entities:
///   - name: region
///     primary_name: name
///     attributes:
///       - { name: code, type: string, max_length: 20, required: true }
///       - { name: name, type: string, max_length: 100 }
///     keys:
///       - { name: ak_region_code, columns: [code] }
///   - name: account
///     attributes:
///       - { name: regionid, type: lookup, targets: [region] }
/// ```
public struct SchemaFile: Codable, Sendable {
    /// One entity entry of the file.
    public struct Entity: Codable, Sendable {
        public var name: String
        public var setName: String?
        public var primaryName: String?
        public var changeTracking: Bool?
        public var ownership: OwnershipType?
        public var stateModel: Bool?
        public var states: [StateOption]?
        public var attributes: [AttributeDefinition]?
        public var keys: [AlternateKeyDefinition]?

        enum CodingKeys: String, CodingKey {
            case name, ownership, states, attributes, keys
            case setName = "set_name", primaryName = "primary_name", changeTracking = "change_tracking"
            case stateModel = "state_model"
        }
    }

    /// The entities, in the order they are applied.
    public var entities: [Entity]

    /// Parses YAML text (JSON is valid YAML too).
    /// - Throws: `schema.invalid` with the parser's message.
    public static func parse(_ text: String, fileName: String = "schema") throws -> SchemaFile {
        if let violation = YAMLLimits.violation(in: text) {
            throw ServiceError(.schemaInvalid, "\(fileName): \(violation)")
        }
        // a misspelt setting is named before the decoder says what is then missing
        if let node = try? Yams.compose(yaml: text), let unknown = Self.unknownSetting(in: node) {
            throw ServiceError(.schemaInvalid, "\(fileName): \(unknown)")
        }
        do {
            return try YAMLDecoder().decode(SchemaFile.self, from: text)
        } catch {
            throw ServiceError(.schemaInvalid, "\(fileName): \(Self.describe(error))")
        }
    }

    /// The settings each level of the file may hold. The decoder ignores any other, so a
    /// misspelt one (`max_lenght: 5`, `change_traking: false`) would be dropped silently and
    /// its default applied, and some defaults (change tracking) cannot be undone.
    private static let settings: [String: Set<String>] = [
        "the file": ["entities"],
        "an entity": ["name", "set_name", "primary_name", "change_tracking", "ownership", "state_model", "states", "attributes", "keys"],
        "a column": ["name", "type", "precision", "targets", "options", "required", "max_length", "min_value", "max_value"],
        "a choice option": ["value", "label"],
        "a key": ["name", "columns", "status"],
        "a state": ["value", "label", "default_status", "statuses"],
        "a status": ["value", "label"],
    ]

    /// The first setting the file holds that its level does not have, described with its place.
    private static func unknownSetting(in root: Node) -> String? {
        func check(_ node: Node?, _ level: String, _ place: String) -> String? {
            guard case .mapping(let mapping)? = node else { return nil }
            for (key, _) in mapping {
                let name = key.string ?? "\(key)"
                if name == "<<" { continue }  // a YAML merge of an anchored mapping
                if level == "the file", name.hasPrefix("x-") { continue }  // a place for anchors (`x-text: &text {…}`)
                if !(settings[level]?.contains(name) ?? true) {
                    let known = settings[level]!.sorted().joined(separator: ", ")
                    return "\(place): unknown setting '\(name)' (line \(key.mark?.line ?? 0)); \(level) takes \(known)"
                }
            }
            return nil
        }
        func items(_ node: Node?, _ key: String) -> [Node] {
            guard case .mapping(let mapping)? = node, case .sequence(let list)? = mapping[key] else { return [] }
            return Array(list)
        }
        if let found = check(root, "the file", "the file") { return found }
        for entity in items(root, "entities") {
            let name = entity["name"]?.string ?? "?"
            if let found = check(entity, "an entity", "entity '\(name)'") { return found }
            for column in items(entity, "attributes") {
                let place = "entity '\(name)', column '\(column["name"]?.string ?? "?")'"
                if let found = check(column, "a column", place) { return found }
                for option in items(column, "options") { if let found = check(option, "a choice option", place) { return found } }
            }
            for key in items(entity, "keys") {
                if let found = check(key, "a key", "entity '\(name)', key '\(key["name"]?.string ?? "?")'") { return found }
            }
            for state in items(entity, "states") {
                if let found = check(state, "a state", "entity '\(name)', state \(state["value"]?.string ?? "?")") { return found }
                for status in items(state, "statuses") { if let found = check(status, "a status", "entity '\(name)'") { return found } }
            }
        }
        return nil
    }

    /// The entity definitions this file asks for, given what the store already has.
    public func definitions(existing: [String: EntityDefinition]) -> [EntityDefinition] {
        entities.map { entry in
            if let current = existing[entry.name] {
                var merged = current
                merged.changeTracking = entry.changeTracking ?? current.changeTracking
                merged.states = entry.states ?? current.states
                merged.primaryNameAttribute = entry.primaryName ?? current.primaryNameAttribute
                merged.attributes = entry.attributes ?? []
                merged.keys = entry.keys ?? []
                return merged
            }
            return EntityDefinition(
                name: entry.name, setName: entry.setName, primaryNameAttribute: entry.primaryName,
                changeTracking: entry.changeTracking ?? true, ownership: entry.ownership ?? .organization,
                hasStateModel: entry.stateModel ?? true, states: entry.states ?? StateOption.platformDefault,
                attributes: entry.attributes ?? [], keys: entry.keys ?? [])
        }
    }

    /// Writes definitions back as YAML in the same format.
    public static func yaml(for definitions: [EntityDefinition]) throws -> String {
        let entries = definitions.map { definition in
            Entity(name: definition.name, setName: definition.setName, primaryName: definition.primaryNameAttribute,
                   changeTracking: definition.changeTracking, ownership: definition.ownership,
                   stateModel: definition.hasStateModel, states: definition.hasStateModel ? definition.states : nil,
                   attributes: definition.attributes, keys: definition.keys)
        }
        return try YAMLEncoder().encode(SchemaFile(entities: entries))
    }

    private static func describe(_ error: Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, let context):
            return "missing '\(key.stringValue)' at \(path(context))"
        case DecodingError.typeMismatch(_, let context) where context.codingPath.isEmpty,
             DecodingError.valueNotFound(_, let context) where context.codingPath.isEmpty:
            // an empty file, or a list or text where the file's mapping should be
            return "the file is empty or not a mapping: it starts with `entities:` and a list of entities"
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
            return "\(context.debugDescription) at \(path(context))"
        case DecodingError.dataCorrupted(let context):
            // YAML that does not parse: the parser's own message has the line and column
            if let underlying = context.underlyingError { return "not valid YAML: \(underlying)" }
            return "\(context.debugDescription) at \(path(context))"
        default:
            return "\(error)"
        }
    }

    private static func path(_ context: DecodingError.Context) -> String {
        let path = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
        return path.isEmpty ? "the top of the file" : path
    }
}

extension EntityStore {
    /// Parses a schema file and applies it.
    /// - Throws: `schema.invalid` or a key error; nothing is applied then.
    @discardableResult
    public func applySchemaFile(_ text: String, fileName: String = "schema") throws -> SchemaChanges {
        let file = try SchemaFile.parse(text, fileName: fileName)
        let existing = Dictionary(uniqueKeysWithValues: catalog.map { ($0.key, $0.value.definition) })
        return try applySchema(file.definitions(existing: existing))
    }
}
