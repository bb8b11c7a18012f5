/// Errors a Swift binding throws; the dispatcher turns them into Lua errors.
public enum LuaError: Error, Sendable {
    /// A bad argument: raised with `luaL_argerror` wording, "bad argument #N to 'f' (message)".
    case argument(Int32, String)
    /// Raises this value as the Lua error object (a table keeps its fields, e.g. `code`).
    case value(LuaValue)
    /// Re-raises the Lua error object currently on top of the stack (after a failed `pcall`).
    case propagate
    /// A plain message, raised with the caller's "chunk:line:" prefix.
    case message(String)

    /// A structured error table `{code = code, message = message, ...}`.
    public static func structured(code: String, message: String, fields: [String: LuaValue] = [:]) -> LuaError {
        var all = fields
        all["code"] = .string(code)
        all["message"] = .string(message)
        return .value(.record(all))
    }
}

extension LuaError: CustomStringConvertible {
    /// A readable description for logs.
    public var description: String {
        switch self {
        case .argument(let index, let message): return "bad argument #\(index) (\(message))"
        case .value(let value): return "Lua error value \(value)"
        case .propagate: return "Lua error on stack"
        case .message(let message): return message
        }
    }
}
