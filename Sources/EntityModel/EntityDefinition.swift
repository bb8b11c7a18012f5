import Foundation

/// The index status of an alternate key (`EntityKeyIndexStatus`).
public enum KeyIndexStatus: String, Codable, Sendable {
    case pending = "Pending", inProgress = "InProgress", active = "Active", failed = "Failed"
}

/// An alternate key: a named set of columns whose values identify one record.
public struct AlternateKeyDefinition: Codable, Hashable, Sendable {
    /// The key's logical name (`ak_accountnumber`).
    public var name: String
    /// The columns, in definition order.
    public var columns: [String]
    /// The index status; only Active keys address records and enforce uniqueness.
    public var status: KeyIndexStatus

    /// Creates a key definition.
    public init(name: String, columns: [String], status: KeyIndexStatus = .pending) {
        self.name = name
        self.columns = columns
        self.status = status
    }

    enum CodingKeys: String, CodingKey { case name, columns, status }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decode(String.self, forKey: .name)
        columns = try container.decode([String].self, forKey: .columns)
        status = try container.decodeIfPresent(KeyIndexStatus.self, forKey: .status) ?? .pending
    }
}

/// A status reason that belongs to a state.
public struct StatusOption: Codable, Hashable, Sendable {
    /// The statuscode value.
    public var value: Int64
    /// The label.
    public var label: String

    /// Creates a status option.
    public init(value: Int64, label: String) {
        self.value = value
        self.label = label
    }
}

/// A state of the state model, with its valid statuses and its default status.
public struct StateOption: Codable, Hashable, Sendable {
    /// The statecode value.
    public var value: Int64
    /// The label.
    public var label: String
    /// The statuscode taken when statecode is set alone.
    public var defaultStatus: Int64
    /// The valid statuscodes for this state.
    public var statuses: [StatusOption]

    enum CodingKeys: String, CodingKey {
        case value, label, statuses
        case defaultStatus = "default_status"
    }

    /// Creates a state.
    public init(value: Int64, label: String, defaultStatus: Int64, statuses: [StatusOption]) {
        self.value = value
        self.label = label
        self.defaultStatus = defaultStatus
        self.statuses = statuses
    }

    /// The platform default: 0 Active (status 1) and 1 Inactive (status 2).
    public static let platformDefault: [StateOption] = [
        StateOption(value: 0, label: "Active", defaultStatus: 1, statuses: [StatusOption(value: 1, label: "Active")]),
        StateOption(value: 1, label: "Inactive", defaultStatus: 2, statuses: [StatusOption(value: 2, label: "Inactive")]),
    ]
}

/// Who owns the records of an entity.
public enum OwnershipType: String, Codable, Sendable {
    case user, organization
}

/// An entity (table) definition.
public struct EntityDefinition: Codable, Hashable, Sendable {
    /// The logical name (`account`).
    public var name: String
    /// The entity set name used in Web API URLs (`accounts`).
    public var setName: String
    /// The primary key column (`accountid`).
    public var primaryIdAttribute: String
    /// The primary name column, when there is one.
    public var primaryNameAttribute: String?
    /// Whether change tracking is enabled (once enabled, it stays enabled).
    public var changeTracking: Bool
    /// User-owned entities carry `ownerid`.
    public var ownership: OwnershipType
    /// Whether the entity has statecode/statuscode.
    public var hasStateModel: Bool
    /// The state model, when `hasStateModel`.
    public var states: [StateOption]
    /// The columns defined by the user or the starter schema (system columns are implicit).
    public var attributes: [AttributeDefinition]
    /// Alternate keys.
    public var keys: [AlternateKeyDefinition]
    /// A stable metadata id.
    public var metadataId: RecordID

    enum CodingKeys: String, CodingKey {
        case name, ownership, states, attributes, keys
        case setName = "set_name", primaryIdAttribute = "primary_id"
        case primaryNameAttribute = "primary_name", changeTracking = "change_tracking"
        case hasStateModel = "state_model", metadataId = "metadata_id"
    }

    /// Creates a definition; system columns (`<name>id`, `versionnumber`, `createdon`, `modifiedon`,
    /// `ownerid` for user-owned, `statecode`/`statuscode` with a state model) are added implicitly.
    public init(name: String, setName: String? = nil, primaryNameAttribute: String? = nil,
                changeTracking: Bool = true, ownership: OwnershipType = .organization,
                hasStateModel: Bool = true, states: [StateOption] = StateOption.platformDefault,
                attributes: [AttributeDefinition] = [], keys: [AlternateKeyDefinition] = [],
                metadataId: RecordID? = nil) {
        self.name = name
        self.setName = setName ?? name + "s"
        self.primaryIdAttribute = name + "id"
        self.primaryNameAttribute = primaryNameAttribute
        self.changeTracking = changeTracking
        self.ownership = ownership
        self.hasStateModel = hasStateModel
        self.states = states
        self.attributes = attributes
        self.keys = keys
        self.metadataId = metadataId ?? RecordID(UUID())
    }

    /// Every column, system columns included, in a stable order.
    public var allAttributes: [AttributeDefinition] {
        var result = [AttributeDefinition(name: primaryIdAttribute, type: .uniqueidentifier)]
        result += attributes
        if ownership == .user {
            result.append(AttributeDefinition(name: "ownerid", type: .owner, targets: ["systemuser", "team"]))
        }
        if hasStateModel {
            result.append(AttributeDefinition(name: "statecode", type: .state))
            result.append(AttributeDefinition(name: "statuscode", type: .status))
        }
        result.append(AttributeDefinition(name: "versionnumber", type: .integer))
        result.append(AttributeDefinition(name: "createdon", type: .datetime))
        result.append(AttributeDefinition(name: "modifiedon", type: .datetime))
        return result
    }

    /// The column with a logical name, system columns included.
    public func attribute(_ name: String) -> AttributeDefinition? {
        allAttributes.first { $0.name == name }
    }

    /// The Active key whose columns are exactly `columns`, in any order.
    public func activeKey(matching columns: Set<String>) -> AlternateKeyDefinition? {
        keys.first { $0.status == .active && Set($0.columns) == columns }
    }
}
