import LuaKit

/// A value a REPL statement returned, copied for display: tables keep their shape, and
/// values Lua alone can render (decimals, references, functions) arrive as their text.
public indirect enum ReplValue: Equatable, Sendable {
    /// `nil`.
    case `nil`
    /// `true` or `false`.
    case boolean(Bool)
    /// A Lua integer.
    case integer(Int64)
    /// A Lua float.
    case number(Double)
    /// A Lua string.
    case string(String)
    /// A value shown as it is, unquoted: a decimal, a reference, `cds.null`, a function.
    case text(String)
    /// A table whose keys are exactly 1...n (an empty table is an empty list).
    case list([ReplValue])
    /// Any other table, its keys as text in display order (integers, then names).
    case table([(key: String, value: ReplValue)])

    /// Marks a table that stands for a value rendered to text by the Lua side.
    static let textMarker = "\u{0}cdsync.repl.text"

    /// Converts a value read from Lua, decoding the text marker.
    init(_ value: LuaValue) {
        switch value {
        case .nil: self = .nil
        case .bool(let flag): self = .boolean(flag)
        case .integer(let number): self = .integer(number)
        case .number(let number): self = .number(number)
        case .string(let text): self = .string(text)
        case .other(let kind): self = .text("<\(kind)>")
        case .table(let entries): self = Self.table(from: entries)
        }
    }

    private static func table(from entries: [LuaValue: LuaValue]) -> ReplValue {
        if entries.count == 1, case .string(let text)? = entries[.string(textMarker)] { return .text(text) }
        let count = entries.count
        if (1...max(count, 1)).allSatisfy({ entries[.integer(Int64($0))] != nil }) || count == 0 {
            return .list((0..<count).map { ReplValue(entries[.integer(Int64($0 + 1))]!) })
        }
        let sorted = entries.sorted { left, right in order(left.key, right.key) }
        return .table(sorted.map { (key: keyText($0.key), value: ReplValue($0.value)) })
    }

    private static func order(_ left: LuaValue, _ right: LuaValue) -> Bool {
        switch (left, right) {
        case (.integer(let a), .integer(let b)): return a < b
        case (.integer, _): return true
        case (_, .integer): return false
        default: return keyText(left) < keyText(right)
        }
    }

    private static func keyText(_ key: LuaValue) -> String {
        switch key {
        case .string(let text): return text
        case .integer(let number): return "[\(number)]"
        case .number(let number): return "[\(number)]"
        case .bool(let flag): return "[\(flag)]"
        default: return "[?]"
        }
    }

    /// True for a scalar (anything but a list or table).
    public var isScalar: Bool {
        switch self {
        case .list, .table: return false
        default: return true
        }
    }

    /// A record: a non-empty table with name keys and scalar values.
    public var recordFields: [(key: String, value: ReplValue)]? {
        guard case .table(let fields) = self, !fields.isEmpty,
              fields.allSatisfy({ $0.value.isScalar && !$0.key.hasPrefix("[") }) else { return nil }
        return fields
    }

    /// Equality over the display form.
    public static func == (left: ReplValue, right: ReplValue) -> Bool {
        switch (left, right) {
        case (.nil, .nil): return true
        case (.boolean(let a), .boolean(let b)): return a == b
        case (.integer(let a), .integer(let b)): return a == b
        case (.number(let a), .number(let b)): return a == b || (a.isNaN && b.isNaN)
        case (.string(let a), .string(let b)), (.text(let a), .text(let b)): return a == b
        case (.list(let a), .list(let b)): return a == b
        case (.table(let a), .table(let b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        default: return false
        }
    }
}
