/// How a record is found: by its GUID, or by the values of one of its alternate keys.
public enum RecordLocator: Hashable, Sendable {
    /// By primary key.
    case id(RecordID)
    /// By alternate-key values, column name to value (the column set must match one key).
    case keys([String: FieldValue])
}

/// A reference to a record of an entity, by GUID or by alternate key.
public struct EntityReference: Hashable, Sendable, CustomStringConvertible {
    /// The entity's logical name.
    public var entity: String
    /// How the record is found.
    public var locator: RecordLocator

    /// A reference by GUID.
    public init(_ entity: String, id: RecordID) {
        self.entity = entity
        self.locator = .id(id)
    }

    /// A reference by alternate-key values.
    public init(_ entity: String, keys: [String: FieldValue]) {
        self.entity = entity
        self.locator = .keys(keys)
    }

    /// The GUID, when the reference is by id.
    public var id: RecordID? { if case .id(let id) = locator { return id } else { return nil } }

    /// The key as people read it: `accountnumber='A1'`, `new_region=7,new_code='X'`, or the GUID.
    public var keyDescription: String {
        switch locator {
        case .id(let id): return id.description
        case .keys(let values):
            return values.keys.sorted().map { "\($0)=\(values[$0]!.displayText)" }.joined(separator: ",")
        }
    }

    /// `entity(key)`, e.g. `account(accountnumber='A1')`.
    public var description: String { "\(entity)(\(keyDescription))" }
}

/// A record: an entity name, an optional id, and column values.
public struct Record: Hashable, Sendable {
    /// The entity's logical name.
    public var entity: String
    /// The primary key, when known.
    public var id: RecordID?
    /// Column values by logical column name.
    public var fields: [String: FieldValue]
    /// The records expanded lookups point at, by lookup column (only for reads that asked).
    public var related: [String: Record]

    /// Creates a record.
    public init(entity: String, id: RecordID? = nil, fields: [String: FieldValue] = [:], related: [String: Record] = [:]) {
        self.entity = entity
        self.id = id
        self.fields = fields
        self.related = related
    }

    /// The value of a column, or nil when the record does not carry it.
    public subscript(column: String) -> FieldValue? {
        get { fields[column] }
        set { fields[column] = newValue }
    }
}
