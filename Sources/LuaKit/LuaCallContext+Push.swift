import CLua
import CLuaShims

extension LuaCallContext {
    /// Pushes `nil`.
    public func pushNil() { lua_pushnil(luaState) }

    /// Pushes a boolean.
    public func push(_ value: Bool) { lua_pushboolean(luaState, value ? 1 : 0) }

    /// Pushes a Lua integer.
    public func push(_ value: Int64) { lua_pushinteger(luaState, lua_Integer(value)) }

    /// Pushes a Lua integer.
    public func push(_ value: Int) { lua_pushinteger(luaState, lua_Integer(value)) }

    /// Pushes a Lua float.
    public func push(_ value: Double) { lua_pushnumber(luaState, value) }

    /// Pushes a string (its UTF-8 bytes; embedded NULs are kept).
    public func push(_ value: String) { LuaValueWriter.pushString(luaState, value) }

    /// Pushes raw bytes as a Lua string.
    public func push(bytes: [UInt8]) {
        bytes.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { _ = lua_pushlstring(luaState, $0.baseAddress, $0.count) }
        }
    }

    /// Pushes raw bytes (for example UTF-8 read from a file) as a Lua string, without a Swift String.
    public func push(bytes: UnsafeBufferPointer<UInt8>) {
        bytes.withMemoryRebound(to: CChar.self) { _ = lua_pushlstring(luaState, $0.baseAddress, $0.count) }
    }

    /// Pushes a string or `nil`.
    public func push(_ value: String?) {
        if let value { push(value) } else { pushNil() }
    }

    /// Pushes a `LuaValue` (tables are built recursively).
    public func push(_ value: LuaValue) { LuaValueWriter.push(luaState, value) }

    /// Pushes a copy of the value at `index`.
    public func pushCopy(of index: Int32) { lua_pushvalue(luaState, index) }

    /// Pushes a new empty table sized for the given parts and returns its absolute index.
    @discardableResult
    public func pushNewTable(arrayCapacity: Int32 = 0, fieldCapacity: Int32 = 0) -> Int32 {
        lua_createtable(luaState, arrayCapacity, fieldCapacity)
        return lua_gettop(luaState)
    }

    /// Pops the top value and stores it as `table[key]` with a raw set.
    public func setField(_ key: String, in table: Int32) {
        let t = absolute(table)
        push(key)
        lua_rotate(luaState, -2, 1)
        lua_rawset(luaState, t)
    }

    /// Pops a key and the value pushed after it and stores `table[key] = value` with a raw set
    /// (pushing the key first saves the rotation `setField` makes). `table` is an absolute
    /// index, as `pushNewTable` returns: a relative one would have moved with the two pushes.
    public func rawSet(in table: Int32) {
        assert(table > 0, "rawSet needs an absolute table index")
        lua_rawset(luaState, table)
    }

    /// Pops the top value and stores it as `table[key]` with a raw set; `key` is a C string
    /// that stays at the same address (Lua then finds its interned string by that address
    /// instead of hashing it again, which matters for a header's names on every row).
    public func setField(_ key: UnsafePointer<CChar>, in table: Int32) {
        let t = absolute(table)
        lua_pushstring(luaState, key)
        lua_rotate(luaState, -2, 1)
        lua_rawset(luaState, t)
    }

    /// Pushes a C string that stays at the same address (as `setField(_:in:)` with one: Lua
    /// finds its interned string by the address).
    public func push(cString: UnsafePointer<CChar>) {
        lua_pushstring(luaState, cString)
    }

    /// Pops the top value and stores it as `table[position]` with a raw set.
    public func setIndex(_ position: Int64, in table: Int32) {
        lua_rawseti(luaState, absolute(table), lua_Integer(position))
    }

    /// Returns the status that makes the trampoline yield the top `count` values.
    ///
    /// When the host resumes, the binding is called again with `isResumed == true`; the stack
    /// then holds the original arguments followed by the values passed to `resume`.
    public func yield(_ count: Int32) -> Int32 { SHIM_YIELD_BASE - count }

    /// Returns every value from `index` to the top as results (for use after a resume).
    public func returnValues(from index: Int32) -> Int32 { max(0, lua_gettop(luaState) - index + 1) }
}

// MARK: - Raw table access (no metamethods, never raises).

extension LuaCallContext {
    /// Pushes `table[key]` (raw) and returns its type; pop it when done.
    @discardableResult
    public func pushField(_ key: String, in table: Int32) -> LuaType {
        let t = absolute(table)
        push(key)
        return LuaType(rawValue: lua_rawget(luaState, t)) ?? .nil
    }

    /// Pushes `table[position]` (raw) and returns its type; pop it when done.
    @discardableResult
    public func pushIndex(_ position: Int64, in table: Int32) -> LuaType {
        LuaType(rawValue: lua_rawgeti(luaState, table, lua_Integer(position))) ?? .nil
    }

    /// The type of `table[key]` (raw).
    public func type(ofField key: String, in table: Int32) -> LuaType {
        defer { pop() }
        return pushField(key, in: table)
    }

    /// `table[key]` if it is a string.
    public func string(field key: String, in table: Int32) -> String? {
        pushField(key, in: table)
        defer { pop() }
        return string(at: -1)
    }

    /// `table[key]` if it is an integer (or integral float).
    public func integer(field key: String, in table: Int32) -> Int64? {
        pushField(key, in: table)
        defer { pop() }
        return integer(at: -1)
    }

    /// `table[key]` if it is a number.
    public func number(field key: String, in table: Int32) -> Double? {
        pushField(key, in: table)
        defer { pop() }
        return number(at: -1)
    }

    /// `table[key]` if it is a boolean.
    public func bool(field key: String, in table: Int32) -> Bool? {
        pushField(key, in: table)
        defer { pop() }
        return bool(at: -1)
    }

    /// `table[key]` copied into a `LuaValue`.
    public func value(field key: String, in table: Int32) -> LuaValue {
        pushField(key, in: table)
        defer { pop() }
        return value(at: -1)
    }

    /// The raw length (`#t` without `__len`) of the table or string at `index`.
    public func rawLength(of index: Int32) -> Int64 { Int64(lua_rawlen(luaState, index)) }

    /// Calls `body(keyIndex, valueIndex)` for each entry of the table, via `lua_next`.
    ///
    /// The body must leave the stack as it found it and must not modify the table. To read a
    /// key that may be a number, use `integer(at:)`/`number(at:)`, never `string(at:)` on it
    /// (which refuses non-strings anyway).
    ///
    /// The iteration makes room for its key and value first: a binding has only `LUA_MINSTACK`
    /// free slots, and nested iterations (JSON of nested tables) would otherwise write past the
    /// stack.
    /// - Throws: `LuaError.message` when the stack cannot grow; what `body` throws.
    public func forEachEntry(in table: Int32, _ body: (_ key: Int32, _ value: Int32) throws -> Void) throws {
        guard lua_checkstack(luaState, 3) != 0 else { throw LuaError.message("the Lua stack is full (values nested too deeply)") }
        let t = absolute(table)
        let base = lua_gettop(luaState)
        lua_pushnil(luaState)
        while lua_next(luaState, t) != 0 {
            do {
                try body(base + 1, base + 2)
            } catch {
                lua_settop(luaState, base)
                throw error
            }
            lua_settop(luaState, base + 1)
        }
    }

    /// One step of a `lua_next` walk of the table at absolute index `table`, for loops too hot
    /// for a closure per entry: push nil, then call this while it returns true; each time the
    /// key is at -2 and the value at -1, and the value must be popped (only) before the next call.
    /// Reserve stack room first (`reserve(3)`).
    public func nextEntry(in table: Int32) -> Bool { lua_next(luaState, table) != 0 }
}
