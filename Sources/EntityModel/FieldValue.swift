import Foundation

/// A column value as it travels between scripts, transports and the engine.
/// The engine checks it against the column's type; see `AttributeType`.
public enum FieldValue: Hashable, Sendable {
    /// An explicit null: clears the column.
    case null
    /// Text (single line of text, memo).
    case string(String)
    /// A whole number; also choices, state and status codes.
    case integer(Int64)
    /// An exact decimal (decimal and money columns).
    case decimal(DecimalNumber)
    /// A floating-point number (float columns only).
    case float(Double)
    /// A two-options value.
    case boolean(Bool)
    /// A point in time (UTC).
    case dateTime(Date)
    /// A unique identifier.
    case guid(RecordID)
    /// A lookup or owner value: a reference by GUID or by the related record's alternate key.
    case reference(EntityReference)

    /// True for `.null`.
    public var isNull: Bool { if case .null = self { return true } else { return false } }

    /// A short human form used in error messages and key descriptions.
    public var displayText: String {
        switch self {
        case .null: return "null"
        case .string(let text): return "'\(text)'"
        case .integer(let value): return String(value)
        case .decimal(let value): return value.description
        case .float(let value): return String(value)
        case .boolean(let value): return value ? "true" : "false"
        case .dateTime(let date): return DateText.string(from: date)
        case .guid(let id): return id.description
        case .reference(let reference): return reference.description
        }
    }
}

extension ISO8601DateFormatter {
    /// The formatter cdsync uses for date-time text (UTC, seconds precision).
    nonisolated(unsafe) public static let cdsync: ISO8601DateFormatter = {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter
    }()
}
