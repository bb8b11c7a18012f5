import DataFiles
import EntityModel

/// Entity, attribute and key metadata as the Web API's `EntityDefinitions` shows them.
enum MetadataJSON {
    /// `EntityMetadata` of one entity (without `Attributes` and `Keys`).
    static func entity(_ definition: EntityDefinition) -> [(String, JSONValue)] {
        [
            ("MetadataId", .string(definition.metadataId.description)),
            ("LogicalName", .string(definition.name)),
            ("SchemaName", .string(definition.name)),
            ("EntitySetName", .string(definition.setName)),
            ("LogicalCollectionName", .string(definition.setName)),
            ("PrimaryIdAttribute", .string(definition.primaryIdAttribute)),
            ("PrimaryNameAttribute", definition.primaryNameAttribute.map(JSONValue.string) ?? .null),
            ("ChangeTrackingEnabled", .bool(definition.changeTracking)),
            ("CanChangeTrackingBeEnabled", .object([("Value", .bool(definition.changeTracking)), ("CanBeChanged", .bool(false))])),
            ("IsOptimisticConcurrencyEnabled", .bool(true)),
            ("OwnershipType", .string(definition.ownership == .user ? "UserOwned" : "OrganizationOwned")),
        ]
    }

    /// `EntityKeyMetadata`.
    static func key(_ key: AlternateKeyDefinition, of definition: EntityDefinition) -> [(String, JSONValue)] {
        [
            ("LogicalName", .string(key.name)),
            ("SchemaName", .string(key.name)),
            ("EntityLogicalName", .string(definition.name)),
            ("KeyAttributes", .array(key.columns.map(JSONValue.string))),
            ("EntityKeyIndexStatus", .string(key.status.rawValue)),
        ]
    }

    /// `AttributeMetadata`.
    static func attribute(_ attribute: AttributeDefinition, of definition: EntityDefinition) -> [(String, JSONValue)] {
        var members: [(String, JSONValue)] = [
            ("LogicalName", .string(attribute.name)),
            ("SchemaName", .string(attribute.name)),
            ("EntityLogicalName", .string(definition.name)),
            ("AttributeType", .string(attributeType(attribute.type))),
            ("IsPrimaryId", .bool(attribute.name == definition.primaryIdAttribute)),
            ("IsPrimaryName", .bool(attribute.name == definition.primaryNameAttribute)),
            ("RequiredLevel", .object([("Value", .string(attribute.isRequired ? "SystemRequired" : "None"))])),
        ]
        if attribute.type == .string || attribute.type == .memo {
            members.append(("MaxLength", .number(String(attribute.effectiveMaxLength))))
        }
        if attribute.type == .decimal || attribute.type == .money {
            members.append(("Precision", .number(String(attribute.effectivePrecision))))
        }
        if let targets = attribute.targets { members.append(("Targets", .array(targets.map(JSONValue.string)))) }
        return members
    }

    /// The metadata `AttributeType` name of a kind.
    static func attributeType(_ kind: AttributeKind) -> String {
        switch kind {
        case .string: return "String"
        case .memo: return "Memo"
        case .integer: return "Integer"
        case .decimal: return "Decimal"
        case .money: return "Money"
        case .float: return "Double"
        case .boolean: return "Boolean"
        case .datetime: return "DateTime"
        case .choice: return "Picklist"
        case .state: return "State"
        case .status: return "Status"
        case .lookup: return "Lookup"
        case .owner: return "Owner"
        case .uniqueidentifier: return "Uniqueidentifier"
        }
    }

    /// Keeps the selected properties (and `MetadataId`) of an object.
    /// - Throws: `0x0` for a property the type does not have.
    static func selecting(_ members: [(String, JSONValue)], _ select: [String]?, type: String) throws -> [(String, JSONValue)] {
        guard let select, !select.isEmpty else { return members }
        for name in select where !members.contains(where: { $0.0 == name }) && name != "Attributes" && name != "Keys" {
            throw ServiceError(.unknownProperty, "Could not find a property named '\(name)' on type 'Microsoft.Dynamics.CRM.\(type)'.")
        }
        return members.filter { select.contains($0.0) || $0.0 == "MetadataId" }
    }

    /// Evaluates a `$filter` over a metadata object (`ChangeTrackingEnabled eq true`, `CanChangeTrackingBeEnabled/Value eq false`).
    static func matches(_ filter: FilterExpression, _ object: JSONValue) -> Bool {
        switch filter {
        case .and(let left, let right): return matches(left, object) && matches(right, object)
        case .or(let left, let right): return matches(left, object) || matches(right, object)
        case .not(let inner): return !matches(inner, object)
        case .function(let function, let column, let text):
            guard let value = lookup(column, object)?.stringValue?.lowercased() else { return false }
            let needle = text.lowercased()
            switch function {
            case .contains: return value.contains(needle)
            case .startswith: return value.hasPrefix(needle)
            case .endswith: return value.hasSuffix(needle)
            }
        case .comparison(let column, let op, let expected):
            let actual = lookup(column, object) ?? .null
            let equal: Bool
            switch (actual, expected) {
            case (.bool(let left), .boolean(let right)): equal = left == right
            case (.string(let left), .string(let right)): equal = left.lowercased() == right.lowercased()
            case (.string(let left), .guid(let right)): equal = left.lowercased() == right.description
            case (.null, .null): equal = true
            default: equal = false
            }
            switch op {
            case .eq: return equal
            case .ne: return !equal
            default: return false
            }
        }
    }

    private static func lookup(_ path: String, _ object: JSONValue) -> JSONValue? {
        var current: JSONValue? = object
        for part in path.split(separator: "/") { current = current?[String(part)] }
        return current
    }
}
