/// A Lua value copied into Swift; a convenience, not the fast path for hot bindings.
public enum LuaValue: Hashable, Sendable {
    /// Lua `nil` (also used for absent values).
    case `nil`
    /// A Lua boolean.
    case bool(Bool)
    /// A Lua integer (subtype of number).
    case integer(Int64)
    /// A Lua float (subtype of number).
    case number(Double)
    /// A Lua string, decoded as UTF-8 (invalid bytes are replaced; use `bytes(at:)` for raw data).
    case string(String)
    /// A Lua table copied key by key (cycles and very deep nesting are cut off as `.other("table")`).
    case table([LuaValue: LuaValue])
    /// A value Swift does not copy (function, userdata, thread), identified by its type name.
    case other(String)
}

extension LuaValue {
    /// The value as a Swift string if it is a Lua string.
    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    /// The value as an integer if it is a Lua integer or a float with an exact integer value.
    public var integerValue: Int64? {
        switch self {
        case .integer(let i): return i
        case .number(let d): return Int64(exactly: d)
        default: return nil
        }
    }

    /// The value as a double if it is a Lua number.
    public var numberValue: Double? {
        switch self {
        case .integer(let i): return Double(i)
        case .number(let d): return d
        default: return nil
        }
    }

    /// Looks up a string key in a `.table` value.
    public subscript(key: String) -> LuaValue {
        if case .table(let t) = self { return t[.string(key)] ?? .nil }
        return .nil
    }

    /// Builds a table value from string keys, handy for structured errors.
    public static func record(_ fields: [String: LuaValue]) -> LuaValue {
        var table: [LuaValue: LuaValue] = [:]
        table.reserveCapacity(fields.count)
        for (key, value) in fields { table[.string(key)] = value }
        return .table(table)
    }

    /// Builds a sequence table `{v1, v2, ...}`.
    public static func array(_ items: [LuaValue]) -> LuaValue {
        var table: [LuaValue: LuaValue] = [:]
        table.reserveCapacity(items.count)
        for (offset, item) in items.enumerated() { table[.integer(Int64(offset + 1))] = item }
        return .table(table)
    }
}

extension LuaValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByNilLiteral
{
    /// Creates a `.string`.
    public init(stringLiteral value: String) { self = .string(value) }
    /// Creates an `.integer`.
    public init(integerLiteral value: Int64) { self = .integer(value) }
    /// Creates a `.number`.
    public init(floatLiteral value: Double) { self = .number(value) }
    /// Creates a `.bool`.
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    /// Creates `.nil`.
    public init(nilLiteral: ()) { self = .nil }
}

/// The basic type of a Lua value at a stack slot.
public enum LuaType: Int32, Sendable {
    /// An index past the top of the stack.
    case none = -1
    /// `nil`.
    case `nil` = 0
    /// `true` or `false`.
    case boolean = 1
    /// A light userdata pointer.
    case lightUserdata = 2
    /// An integer or a float.
    case number = 3
    /// A byte string.
    case string = 4
    /// A table.
    case table = 5
    /// A Lua or C function.
    case function = 6
    /// A full userdata (for example a Swift object).
    case userdata = 7
    /// A coroutine.
    case thread = 8

    /// The name Lua uses for this type in messages.
    public var name: String {
        switch self {
        case .none: return "no value"
        case .nil: return "nil"
        case .boolean: return "boolean"
        case .lightUserdata, .userdata: return "userdata"
        case .number: return "number"
        case .string: return "string"
        case .table: return "table"
        case .function: return "function"
        case .thread: return "thread"
        }
    }
}
