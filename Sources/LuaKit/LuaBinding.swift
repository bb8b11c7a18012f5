import CLua
import CLuaShims

/// A Swift function callable from Lua: reads its arguments through the context, pushes its
/// results and returns how many (or a status such as `ctx.yield(n)`); throws to raise.
public typealias LuaFunction = (LuaCallContext) throws -> Int32

/// Keeps a binding closure alive for the lifetime of its `LuaState`.
final class LuaBindingBox {
    let body: LuaFunction

    init(_ body: @escaping LuaFunction) {
        self.body = body
    }
}

/// The only Swift function Lua ever reaches (through the C trampoline). It never raises:
/// every outcome, including a thrown Swift error, becomes a status code for the trampoline.
func luaKitDispatch(_ state: OpaquePointer?, _ context: UnsafeMutableRawPointer?, _ resumed: Int32) -> Int32 {
    guard let state, let context else { return 0 }
    let ctx = LuaCallContext(state, resumed: resumed != 0)
    do {
        // the state holds the box for as long as Lua can call it: no retain and release per call
        let results = try Unmanaged<LuaBindingBox>.fromOpaque(context)._withUnsafeGuaranteedRef { try $0.body(ctx) }
        if results > lua_gettop(state) {
            ctx.push("binding returned \(results) results but pushed only \(lua_gettop(state))")
            return SHIM_RAISE_WHERE
        }
        return results
    } catch let error as LuaError {
        return status(for: error, ctx)
    } catch {
        ctx.push(String(describing: error))
        return SHIM_RAISE_WHERE
    }
}

private func status(for error: LuaError, _ ctx: LuaCallContext) -> Int32 {
    switch error {
    case .argument(let index, let message):
        ctx.push(message)
        return SHIM_ARGERROR_BASE - min(max(index, 1), 800)
    case .value(let value):
        ctx.push(value)
        return SHIM_RAISE
    case .propagate:
        if ctx.top == 0 { ctx.push("error object missing") }
        return SHIM_RAISE
    case .message(let message):
        ctx.push(message)
        return SHIM_RAISE_WHERE
    }
}

extension LuaCallContext {
    /// Calls the function below its `argumentCount` arguments on the top of the stack, protected.
    ///
    /// On success the results (`resultCount`, or all with `nil`) replace function and arguments.
    /// On failure the error object is left on top: `throw LuaError.propagate` re-raises it as is.
    /// `traceback`: a string error gets the stack traceback appended (for a report); without
    /// it the error stays the value raised, as `pcall` in the script would see it.
    /// - Returns: true on success.
    public func protectedCall(argumentCount: Int32, resultCount: Int32? = nil, traceback: Bool = true) -> Bool {
        let functionIndex = lua_gettop(luaState) - argumentCount
        guard traceback else {
            return shim_host_pcall(luaState, argumentCount, resultCount ?? LUA_MULTRET, 0) == LUA_OK
        }
        shim_pushcfunction(luaState, shim_msgh)
        shim_insert(luaState, functionIndex)
        let status = shim_host_pcall(luaState, argumentCount, resultCount ?? LUA_MULTRET, functionIndex)
        shim_remove(luaState, functionIndex)
        return status == LUA_OK
    }
}
