import CLua
import CLuaShims

/// Copies Lua stack values into `LuaValue`s using only non-raising calls.
enum LuaValueReader {
    /// Tables nested deeper than this (or cyclic) are cut off.
    static let maximumDepth = 64

    static func read(_ luaState: OpaquePointer, _ index: Int32, depth: Int) -> LuaValue {
        switch lua_type(luaState, index) {
        case LUA_TNIL, LUA_TNONE: return .nil
        case LUA_TBOOLEAN: return .bool(lua_toboolean(luaState, index) != 0)
        case LUA_TNUMBER:
            if lua_isinteger(luaState, index) != 0 { return .integer(Int64(lua_tointegerx(luaState, index, nil))) }
            return .number(lua_tonumberx(luaState, index, nil))
        case LUA_TSTRING:
            var length = 0
            let chars = lua_tolstring(luaState, index, &length)
            return .string(String(decoding: UnsafeRawBufferPointer(start: chars, count: length), as: UTF8.self))
        case LUA_TTABLE:
            guard depth < maximumDepth, lua_checkstack(luaState, 3) != 0 else { return .other("table") }
            return readTable(luaState, lua_absindex(luaState, index), depth: depth)
        default:
            return .other(String(cString: lua_typename(luaState, lua_type(luaState, index))))
        }
    }

    private static func readTable(_ luaState: OpaquePointer, _ t: Int32, depth: Int) -> LuaValue {
        var table: [LuaValue: LuaValue] = [:]
        let base = lua_gettop(luaState)
        lua_pushnil(luaState)
        while lua_next(luaState, t) != 0 {
            let key = read(luaState, base + 1, depth: depth + 1)
            table[key] = read(luaState, base + 2, depth: depth + 1)
            lua_settop(luaState, base + 1)
        }
        return .table(table)
    }

    /// Reads `count` values starting at `first` into an array.
    static func readAll(_ luaState: OpaquePointer, from first: Int32, count: Int32) -> [LuaValue] {
        guard count > 0 else { return [] }
        return (0..<count).map { read(luaState, first + $0, depth: 0) }
    }
}

/// Pushes `LuaValue`s using only calls that can fail with out-of-memory alone.
enum LuaValueWriter {
    static func pushString(_ luaState: OpaquePointer, _ value: String) {
        func push(_ utf8: UnsafeBufferPointer<UInt8>) {
            utf8.withMemoryRebound(to: CChar.self) { _ = lua_pushlstring(luaState, $0.baseAddress, $0.count) }
        }
        // the bytes where the string keeps them (`withUTF8` needs a copy of the string to mutate)
        if value.utf8.withContiguousStorageIfAvailable(push) == nil {
            var copy = value
            copy.withUTF8(push)
        }
    }

    static func push(_ luaState: OpaquePointer, _ value: LuaValue) {
        switch value {
        case .nil, .other: lua_pushnil(luaState)
        case .bool(let b): lua_pushboolean(luaState, b ? 1 : 0)
        case .integer(let i): lua_pushinteger(luaState, lua_Integer(i))
        case .number(let d): lua_pushnumber(luaState, d)
        case .string(let s): pushString(luaState, s)
        case .table(let entries): pushTable(luaState, entries)
        }
    }

    private static func pushTable(_ luaState: OpaquePointer, _ entries: [LuaValue: LuaValue]) {
        guard lua_checkstack(luaState, 3) != 0 else {
            lua_pushnil(luaState)
            return
        }
        lua_createtable(luaState, 0, Int32(clamping: entries.count))
        for (key, item) in entries {
            if case .nil = key { continue }
            if case .number(let d) = key, d.isNaN { continue }
            if case .other = key { continue }
            push(luaState, key)
            push(luaState, item)
            lua_rawset(luaState, -3)
        }
    }

    /// Pushes every value and returns how many were pushed (0 if the stack cannot grow).
    static func pushAll(_ luaState: OpaquePointer, _ values: [LuaValue]) -> Int32 {
        guard lua_checkstack(luaState, Int32(clamping: values.count) + 1) != 0 else { return 0 }
        for value in values { push(luaState, value) }
        return Int32(values.count)
    }
}
