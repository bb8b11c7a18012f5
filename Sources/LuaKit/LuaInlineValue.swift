import CLua
import CLuaShims

/// A plain value (no references inside) that scripts hold as userdata with the value stored in
/// the userdata block itself: no Swift object and no finalizer, so making one costs an
/// allocation in Lua and nothing when it is collected. Use it for small immutable values
/// made once per record (decimals); use `LuaObject` for anything holding references.
public protocol LuaInlineValue: BitwiseCopyable {
    /// The metatable name, also shown in type errors (e.g. "cds.Decimal").
    static var luaTypeName: String { get }
}

extension LuaState {
    /// Creates the metatable for an inline value type; `metamethods` (`__tostring`, `__eq`, …)
    /// are its only behaviour (there is no `__gc`).
    public func registerInlineType<T: LuaInlineValue>(_ type: T.Type, metamethods: [String: LuaFunction] = [:]) {
        balanced { ctx in
            _ = luaL_newmetatable(luaState, T.luaTypeName)
            let metatable = ctx.top
            shim_keep_metatable(luaState, metatable, metatableKey(T.self))
            // indexing a value gives nil (as for objects), unless `metamethods` say otherwise
            _ = ctx.pushNewTable()
            ctx.setField("__index", in: metatable)
            for (name, body) in metamethods {
                pushBinding(body)
                ctx.setField(name, in: metatable)
            }
            ctx.push(false)
            ctx.setField("__metatable", in: metatable)
        }
    }
}

extension LuaCallContext {
    /// Pushes `value` as a userdata of its registered inline type.
    public func push<T: LuaInlineValue>(inline value: T) {
        let raw = lua_newuserdatauv(luaState, MemoryLayout<T>.size, 0)!
        raw.storeBytes(of: value, as: T.self)
        shim_setmetatable_keyed(luaState, metatableKey(T.self))
    }

    /// The value at `index` if it is a userdata of inline type `T` (never raises).
    public func inline<T: LuaInlineValue>(at index: Int32, as type: T.Type = T.self) -> T? {
        guard let raw = shim_testudata_keyed(luaState, index, metatableKey(T.self)) else { return nil }
        return raw.loadUnaligned(as: T.self)
    }
}
