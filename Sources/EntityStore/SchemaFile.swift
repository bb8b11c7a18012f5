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
        do {
            return try YAMLDecoder().decode(SchemaFile.self, from: text)
        } catch {
            throw ServiceError(.schemaInvalid, "\(fileName): \(Self.describe(error))")
        }
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
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
            return "\(context.debugDescription) at \(path(context))"
        case DecodingError.dataCorrupted(let context):
            return "\(context.debugDescription) at \(path(context))"
        default:
            return "\(error)"
        }
    }

    private static func path(_ context: DecodingError.Context) -> String {
        context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
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
