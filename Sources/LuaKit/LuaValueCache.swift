import CLua
import CLuaShims

/// A bounded cache of Lua values under three string keys, for a binding that would otherwise
/// build the same immutable value call after call (`cds.ref("region", "code", "NW")` on every
/// row of a load).
///
/// The values live in registry tables (`root[a][b][c]`), so a lookup is a few raw table reads
/// keyed by the Lua strings themselves: they compare by content, and nothing is converted to
/// Swift. The values under one pair of first keys (one lookup column) fill a table of at most
/// `limit` values; when it is full, it starts over if at least as many lookups found a value
/// as stored one, and otherwise the pair is no longer cached at all (a column whose values
/// rarely repeat, such as an e-mail address per row, then costs one table read per call).
///
/// Cached values are shared by every caller that passes the same keys, so cache only values
/// that nothing can change. One cache belongs to one Lua state.
public final class LuaValueCache {
    public let limit: Int
    /// Per value table (numbered in the table under the key `true`): values stored and found.
    private var stores: [Int] = []
    private var hits: [Int] = []

    public init(limit: Int) {
        self.limit = limit
    }

    /// What a lookup found.
    public enum Lookup {
        /// The value is on top of the stack.
        case hit
        /// Nothing was pushed; `storeCached` may cache the value made instead.
        case miss
        /// Nothing was pushed, and these keys are not cached: do not store.
        case uncached
    }

    /// The registry key of the root table: this object's address (it lives as long as the
    /// binding that holds it, which is as long as the state).
    var registryKey: UnsafeRawPointer { UnsafeRawPointer(Unmanaged.passUnretained(self).toOpaque()) }

    func noteHit(_ table: Int) { hits[table] += 1 }

    /// Counts a store in `table`; returns what to do with the table first.
    func noteStore(_ table: Int) -> (startOver: Bool, stopCaching: Bool) {
        stores[table] += 1
        guard stores[table] > limit else { return (false, false) }
        if hits[table] < limit { return (false, true) }
        stores[table] = 1
        hits[table] = 0
        return (true, false)
    }

    func newTableNumber() -> Int {
        stores.append(1)
        hits.append(0)
        return stores.count - 1
    }
}

extension LuaCallContext {
    /// Looks up the value cached under the strings at `a`, `b` and `c`; on a hit it is pushed.
    public func pushCached(_ cache: LuaValueCache, _ a: Int32, _ b: Int32, _ c: Int32) -> LuaValueCache.Lookup {
        let top = lua_gettop(luaState)
        let keys = (absolute(a), absolute(b), absolute(c))
        guard lua_type(luaState, keys.0) == LUA_TSTRING, lua_type(luaState, keys.1) == LUA_TSTRING,
              lua_type(luaState, keys.2) == LUA_TSTRING else { return .uncached }
        let found = findCached(cache, keys)
        if found == .hit {
            lua_copy(luaState, -2, top + 1)  // the value, below the table's number
            lua_settop(luaState, top + 1)
        } else {
            lua_settop(luaState, top)
        }
        return found
    }

    /// On a hit, leaves the value and its table's number on top; otherwise leaves the stack
    /// for the caller to restore.
    private func findCached(_ cache: LuaValueCache, _ keys: (Int32, Int32, Int32)) -> LuaValueCache.Lookup {
        guard lua_rawgetp(luaState, shim_registryindex(), cache.registryKey) == LUA_TTABLE else { return .miss }
        lua_pushvalue(luaState, keys.0)
        guard lua_rawget(luaState, -2) == LUA_TTABLE else { return .miss }
        lua_pushvalue(luaState, keys.1)
        switch lua_rawget(luaState, -2) {
        case LUA_TTABLE: break
        case LUA_TBOOLEAN: return .uncached
        default: return .miss
        }
        lua_pushvalue(luaState, keys.2)
        guard lua_rawget(luaState, -2) != LUA_TNIL else { return .miss }
        lua_pushboolean(luaState, 1)
        _ = lua_rawget(luaState, -3)
        cache.noteHit(Int(lua_tointegerx(luaState, -1, nil)))
        return .hit
    }

    /// Caches the value on top of the stack (it stays there) under the strings at `a`, `b`
    /// and `c` (after a `.miss` for them).
    public func storeCached(_ cache: LuaValueCache, _ a: Int32, _ b: Int32, _ c: Int32) {
        let value = lua_gettop(luaState)
        let keys = (absolute(a), absolute(b), absolute(c))
        guard lua_type(luaState, keys.0) == LUA_TSTRING, lua_type(luaState, keys.1) == LUA_TSTRING,
              lua_type(luaState, keys.2) == LUA_TSTRING, lua_type(luaState, value) != LUA_TNIL else { return }
        defer { lua_settop(luaState, value) }
        if lua_rawgetp(luaState, shim_registryindex(), cache.registryKey) != LUA_TTABLE {
            lua_settop(luaState, value)
            lua_createtable(luaState, 0, 4)
            lua_pushvalue(luaState, -1)
            lua_rawsetp(luaState, shim_registryindex(), cache.registryKey)
        }
        let root = lua_gettop(luaState)
        lua_pushvalue(luaState, keys.0)
        if lua_rawget(luaState, root) != LUA_TTABLE {
            lua_settop(luaState, root)
            newChildTable(in: root, key: keys.0)
        }
        let first = lua_gettop(luaState)
        lua_pushvalue(luaState, keys.1)
        switch lua_rawget(luaState, first) {
        case LUA_TTABLE:
            // the number of this value table, kept under `true` (no string key can be that)
            lua_pushboolean(luaState, 1)
            _ = lua_rawget(luaState, -2)
            let number = Int(lua_tointegerx(luaState, -1, nil))
            lua_settop(luaState, -2)
            let decision = cache.noteStore(number)
            if decision.stopCaching {
                lua_pushvalue(luaState, keys.1)
                lua_pushboolean(luaState, 0)
                lua_rawset(luaState, first)
                return
            }
            if decision.startOver {
                lua_settop(luaState, first)
                newChildTable(in: first, key: keys.1)
                lua_pushboolean(luaState, 1)
                lua_pushinteger(luaState, lua_Integer(number))
                lua_rawset(luaState, -3)
            }
        case LUA_TBOOLEAN:
            return
        default:
            lua_settop(luaState, first)
            newChildTable(in: first, key: keys.1)
            lua_pushboolean(luaState, 1)
            lua_pushinteger(luaState, lua_Integer(cache.newTableNumber()))
            lua_rawset(luaState, -3)
        }
        lua_pushvalue(luaState, keys.2)
        lua_pushvalue(luaState, value)
        lua_rawset(luaState, -3)
    }

    /// Pushes a new table, stored as `parent[key]`.
    private func newChildTable(in parent: Int32, key: Int32) {
        lua_createtable(luaState, 0, 4)
        lua_pushvalue(luaState, key)
        lua_pushvalue(luaState, -2)
        lua_rawset(luaState, parent)
    }
}
