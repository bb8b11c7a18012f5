/// The kinds of column cdsync knows, named as in Dataverse's metadata.
public enum AttributeKind: String, Codable, Sendable, CaseIterable {
    case string, memo, integer, decimal, money, float, boolean, datetime, choice
    case state, status, lookup, owner, uniqueidentifier

    /// True for kinds that hold a reference to another record.
    public var isReference: Bool { self == .lookup || self == .owner }

    /// True for kinds allowed in an alternate key (SPEC §1 rule 1).
    public var allowedInKey: Bool {
        switch self {
        case .string, .integer, .decimal, .datetime, .lookup, .choice: return true
        default: return false
        }
    }
}

/// One option of a choice column.
public struct ChoiceOption: Codable, Hashable, Sendable {
    /// The stored value.
    public var value: Int64
    /// The label.
    public var label: String

    /// Creates an option.
    public init(value: Int64, label: String) {
        self.value = value
        self.label = label
    }
}

/// A column definition.
public struct AttributeDefinition: Codable, Hashable, Sendable {
    /// The logical name (lowercase).
    public var name: String
    /// The kind of value.
    public var type: AttributeKind
    /// Maximum length for string and memo columns.
    public var maxLength: Int?
    /// Fraction digits for decimal and money columns.
    public var precision: Int?
    /// Bounds for whole numbers.
    public var minValue: Int64?
    /// Bounds for whole numbers.
    public var maxValue: Int64?
    /// Target entities of a lookup or owner column.
    public var targets: [String]?
    /// Options of a choice column.
    public var options: [ChoiceOption]?
    /// A SystemRequired column cannot be set to null.
    public var required: Bool?

    enum CodingKeys: String, CodingKey {
        case name, type, precision, targets, options, required
        case maxLength = "max_length", minValue = "min_value", maxValue = "max_value"
    }

    /// Creates a column definition.
    public init(name: String, type: AttributeKind, maxLength: Int? = nil, precision: Int? = nil,
                minValue: Int64? = nil, maxValue: Int64? = nil, targets: [String]? = nil,
                options: [ChoiceOption]? = nil, required: Bool? = nil) {
        self.name = name
        self.type = type
        self.maxLength = maxLength
        self.precision = precision
        self.minValue = minValue
        self.maxValue = maxValue
        self.targets = targets
        self.options = options
        self.required = required
    }

    /// The maximum length in effect (Dataverse defaults: 100 for text, 2000 for memo).
    public var effectiveMaxLength: Int {
        maxLength ?? (type == .memo ? 2000 : 100)
    }

    /// The fraction digits in effect (default 2, as Dataverse shows decimal and money).
    public var effectivePrecision: Int {
        precision ?? 2
    }

    /// True when null is refused.
    public var isRequired: Bool { required ?? false }

    /// The key byte width used for the 900-byte index limit (SPEC §1 rule 3).
    public var keyByteWidth: Int {
        switch type {
        case .string: return 2 * effectiveMaxLength
        case .integer, .choice: return 4
        case .decimal: return 17
        case .datetime: return 8
        default: return 16
        }
    }
}
