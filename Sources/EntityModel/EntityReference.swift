/// How a record is found: by its GUID, or by the values of one of its alternate keys.
public enum RecordLocator: Hashable, Sendable {
    /// By primary key.
    case id(RecordID)
    /// By alternate-key values, column name to value (the column set must match one key).
    case keys([String: FieldValue])
}

/// A reference to a record of an entity, by GUID or by alternate key.
///
/// A reference by one key column (`cds.ref("contact", "emailaddress1", email)`, made once per
/// lookup of a bulk load) keeps its column and value as they are: `locator` builds the
/// one-entry dictionary only when asked, and the store's lookups read `singleKey` instead.
/// Equality and hashing go by `locator`, so both forms of the same key are the same reference.
public struct EntityReference: Hashable, Sendable, CustomStringConvertible {
    private enum Storage: Sendable {
        case locator(RecordLocator)
        indirect case singleKey(String, FieldValue)
    }

    /// The entity's logical name.
    public var entity: String
    private var storage: Storage

    /// How the record is found.
    public var locator: RecordLocator {
        get {
            switch storage {
            case .locator(let locator): return locator
            case .singleKey(let column, let value): return .keys([column: value])
            }
        }
        set { storage = .locator(newValue) }
    }

    /// A reference by GUID.
    public init(_ entity: String, id: RecordID) {
        self.entity = entity
        storage = .locator(.id(id))
    }

    /// A reference by alternate-key values.
    public init(_ entity: String, keys: [String: FieldValue]) {
        self.entity = entity
        storage = .locator(.keys(keys))
    }

    /// A reference by the value of one key column.
    public init(_ entity: String, key column: String, value: FieldValue) {
        self.entity = entity
        storage = .singleKey(column, value)
    }

    /// The column and value when the reference is by exactly one key column (either form).
    public var singleKey: (column: String, value: FieldValue)? {
        switch storage {
        case .singleKey(let column, let value): return (column, value)
        case .locator(.keys(let keys)) where keys.count == 1: return keys.first.map { ($0.key, $0.value) }
        case .locator: return nil
        }
    }

    /// `body`'s answer for the text of the one key column, when the reference is by exactly
    /// `column` (in its one-column form) holding text; nil otherwise. Nothing is copied.
    public func answer<R>(forTextKey column: String, _ body: (String) -> R?) -> R? {
        guard case .singleKey(let name, .string(let text)) = storage, name == column else { return nil }
        return body(text)
    }

    /// The GUID, when the reference is by id.
    public var id: RecordID? { if case .locator(.id(let id)) = storage { return id } else { return nil } }

    /// The key as people read it: `accountnumber='A1'`, `new_region=7,new_code='X'`, or the GUID.
    public var keyDescription: String {
        switch storage {
        case .singleKey(let column, let value): return "\(column)=\(value.displayText)"
        case .locator(.id(let id)): return id.description
        case .locator(.keys(let values)):
            return values.keys.sorted().map { "\($0)=\(values[$0]!.displayText)" }.joined(separator: ",")
        }
    }

    /// `entity(key)`, e.g. `account(accountnumber='A1')`.
    public var description: String { "\(entity)(\(keyDescription))" }

    public static func == (lhs: EntityReference, rhs: EntityReference) -> Bool {
        if lhs.entity != rhs.entity { return false }
        if case .singleKey(let leftColumn, let leftValue) = lhs.storage, case .singleKey(let rightColumn, let rightValue) = rhs.storage {
            return leftColumn == rightColumn && leftValue == rightValue
        }
        return lhs.locator == rhs.locator
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(entity)
        hasher.combine(locator)
    }
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
