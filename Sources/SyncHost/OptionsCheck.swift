import LuaKit

/// Checks an options table before a binding reads it: every key one the binding knows, every
/// value of the kind it takes. A misspelt option (`fliter`) or a wrong-typed one
/// (`filter = 5`) would otherwise be ignored, and a query would read every row.
enum OptionsCheck {
    enum Kind {
        case string, integer, positiveInteger, boolean, table, stringList
        /// Any value: the binding checks it itself.
        case any

        var expected: String {
            switch self {
            case .string: return "a string"
            case .integer: return "a whole number"
            case .positiveInteger: return "a whole number above 0"
            case .boolean: return "true or false"
            case .table: return "a table"
            case .stringList: return "a list of strings"
            case .any: return "a value"
            }
        }
    }

    /// - Throws: `LuaError.argument(argument, …)` naming the option and what it takes.
    static func check(_ ctx: LuaCallContext, table: Int32, argument: Int32, _ known: [String: Kind]) throws {
        let table = ctx.absolute(table)
        try ctx.forEachEntry(in: table) { key, value in
            guard ctx.type(at: key) == .string, let name = ctx.string(at: key) else {
                throw LuaError.argument(argument, "option names must be strings")
            }
            guard let kind = known[name] else {
                throw LuaError.argument(argument, "unknown option '\(name)' (options: \(known.keys.sorted().joined(separator: ", ")))")
            }
            let fits: Bool
            switch kind {
            case .string: fits = ctx.type(at: value) == .string
            case .integer: fits = ctx.isInteger(at: value)
            case .positiveInteger: fits = ctx.isInteger(at: value) && (ctx.integer(at: value) ?? 0) > 0
            case .boolean: fits = ctx.type(at: value) == .boolean
            case .table: fits = ctx.type(at: value) == .table
            case .stringList: fits = ctx.type(at: value) == .table && ctx.value(at: value).arrayStrings != nil
            case .any: fits = true
            }
            guard fits else { throw LuaError.argument(argument, "option '\(name)' must be \(kind.expected), got \(ctx.typeName(at: value))") }
        }
    }
}
