import CLua
import CLuaShims
#if canImport(Glibc)
import Glibc
#endif

/// The view a Swift binding gets of its Lua call: typed reads that never raise, and pushes.
///
/// Indices follow Lua: 1 is the first argument, negative indices count from the top.
/// Every accessor only uses API calls that cannot raise (besides out-of-memory, which the
/// allocator never reports while Swift runs).
public struct LuaCallContext {
    /// The raw state; C types stay inside LuaKit.
    let luaState: OpaquePointer
    /// True when the binding is called again after it yielded and the host resumed it.
    public let isResumed: Bool

    init(_ luaState: OpaquePointer, resumed: Bool = false) {
        self.luaState = luaState
        self.isResumed = resumed
    }

    /// Number of values on the stack (the arguments, on entry).
    public var top: Int32 { lua_gettop(luaState) }

    /// Converts a relative index into an absolute one.
    public func absolute(_ index: Int32) -> Int32 { lua_absindex(luaState, index) }

    /// The type of the value at `index` (`.none` past the top).
    public func type(at index: Int32) -> LuaType { LuaType(rawValue: lua_type(luaState, index)) ?? .none }

    /// The Lua type name of the value at `index`, for messages ("string", "no value", ...).
    public func typeName(at index: Int32) -> String { type(at: index).name }

    /// True if the slot is `nil` or absent.
    public func isNil(at index: Int32) -> Bool { lua_type(luaState, index) <= LUA_TNIL }

    /// The string at `index`, only if it is a Lua string (numbers are not converted).
    public func string(at index: Int32) -> String? {
        guard lua_type(luaState, index) == LUA_TSTRING else { return nil }
        var length = 0
        guard let chars = lua_tolstring(luaState, index, &length) else { return nil }
        let buffer = UnsafeRawBufferPointer(start: chars, count: length)
        return String(decoding: buffer, as: UTF8.self)
    }

    /// Pushes the registry's value under `key` (a plain table: no metamethods) and returns its type.
    @discardableResult
    public func pushRegistryValue(_ key: String) -> LuaType {
        LuaType(rawValue: shim_registry_get(luaState, key)) ?? .nil
    }

    /// Pops the top value into the registry under `key`.
    public func setRegistryValue(_ key: String) {
        shim_registry_set(luaState, key)
    }

    /// The Lua string at `index` as a String when its bytes are valid UTF-8; nil when they are
    /// not, or the value is not a string (`string(at:)` would replace the invalid bytes).
    public func validString(at index: Int32) -> String? {
        guard let bytes = stringBytes(at: index) else { return nil }
        // most text is ASCII: checked eight bytes at a time, then made as `string(at:)` makes it
        var offset = 0
        var seen: UInt64 = 0
        while offset + 8 <= bytes.count {
            seen |= bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
            offset += 8
        }
        while offset < bytes.count {
            seen |= UInt64(bytes[offset])
            offset += 1
        }
        if seen & 0x8080_8080_8080_8080 == 0 { return String(decoding: bytes, as: UTF8.self) }
        return String(validating: bytes, as: UTF8.self)
    }

    /// The bytes of the Lua string at `index`, in place (no copy); nil when the value is not a
    /// string. Valid only while that value stays on the stack: read them before popping it.
    public func stringBytes(at index: Int32) -> UnsafeRawBufferPointer? {
        guard lua_type(luaState, index) == LUA_TSTRING else { return nil }
        var length = 0
        guard let chars = lua_tolstring(luaState, index, &length) else { return nil }
        return UnsafeRawBufferPointer(start: chars, count: length)
    }

    /// True when the value at `index` is a Lua string with exactly these bytes (no copy made).
    public func stringEquals(at index: Int32, _ bytes: [UInt8]) -> Bool {
        guard lua_type(luaState, index) == LUA_TSTRING else { return false }
        var length = 0
        guard let chars = lua_tolstring(luaState, index, &length), length == bytes.count else { return false }
        if length == 0 { return true }
        return bytes.withUnsafeBytes { memcmp($0.baseAddress!, chars, length) == 0 }
    }

    /// The raw bytes of the string at `index`, only if it is a Lua string.
    public func bytes(at index: Int32) -> [UInt8]? {
        guard lua_type(luaState, index) == LUA_TSTRING else { return nil }
        var length = 0
        guard let chars = lua_tolstring(luaState, index, &length) else { return nil }
        return Array(UnsafeRawBufferPointer(start: chars, count: length))
    }

    /// The integer at `index`: a Lua integer or a float with an exact integer value; not strings.
    public func integer(at index: Int32) -> Int64? {
        guard lua_type(luaState, index) == LUA_TNUMBER else { return nil }
        var ok: Int32 = 0
        let value = lua_tointegerx(luaState, index, &ok)
        return ok != 0 ? Int64(value) : nil
    }

    /// True if the number at `index` is stored as a Lua integer (not a float).
    public func isInteger(at index: Int32) -> Bool { lua_isinteger(luaState, index) != 0 }

    /// The number at `index` as a double, only if it is a Lua number.
    public func number(at index: Int32) -> Double? {
        guard lua_type(luaState, index) == LUA_TNUMBER else { return nil }
        return lua_tonumberx(luaState, index, nil)
    }

    /// The boolean at `index`, only if it is a Lua boolean.
    public func bool(at index: Int32) -> Bool? {
        guard lua_type(luaState, index) == LUA_TBOOLEAN else { return nil }
        return lua_toboolean(luaState, index) != 0
    }

    /// Lua truthiness: false only for `nil` and `false`.
    public func isTruthy(at index: Int32) -> Bool { lua_toboolean(luaState, index) != 0 }

    /// Copies the value at `index` into a `LuaValue` (tables recursively; convenience only).
    public func value(at index: Int32) -> LuaValue { LuaValueReader.read(luaState, index, depth: 0) }

    /// Drops values so that `count` remain on the stack.
    public func setTop(_ count: Int32) { lua_settop(luaState, count) }

    /// The line of the Lua code that called the running binding (0 when unknown).
    public func callerLine() -> Int { Int(shim_caller_line(luaState, 1)) }

    /// Why the running script was stopped (its timeout, its memory limit, an interrupt), when
    /// it was: a script that caught that error must not go on writing. Nil while it runs normally.
    public var stoppedReason: String? {
        let killed = shim_killed(luaState)
        return killed == SHIM_KILLED_NONE ? nil : String(cString: shim_killed_message(killed))
    }

    /// Removes the top `count` values.
    public func pop(_ count: Int32 = 1) { lua_settop(luaState, -count - 1) }

    /// Makes sure `extra` more slots can be pushed; false if the stack cannot grow.
    @discardableResult
    public func reserve(_ extra: Int32) -> Bool { lua_checkstack(luaState, extra) != 0 }
}

// MARK: - Argument checks that throw `LuaError.argument` with Lua's wording.

extension LuaCallContext {
    func typeMismatch(_ index: Int32, _ expected: String) -> LuaError {
        .argument(index, "\(expected) expected, got \(typeName(at: index))")
    }

    /// The string argument at `index`, or an argument error.
    public func stringArgument(_ index: Int32) throws -> String {
        guard let value = string(at: index) else { throw typeMismatch(index, "string") }
        return value
    }

    /// The string argument at `index` as a name the host hands to the system or keeps (a file
    /// path, a token name): valid UTF-8 without NUL, which C functions would cut the name at.
    public func nameArgument(_ index: Int32, what: String) throws -> String {
        guard type(at: index) == .string else { throw typeMismatch(index, "string") }
        guard let name = name(at: index) else { throw LuaError.argument(index, "the \(what) must be UTF-8 text without NUL characters") }
        return name
    }

    /// The Lua string at `index` when it can serve as a name (`nameArgument`): valid UTF-8
    /// without NUL; nil otherwise.
    public func name(at index: Int32) -> String? {
        guard let bytes = stringBytes(at: index), !bytes.contains(0) else { return nil }
        return validString(at: index)
    }

    /// The string argument at `index`, `nil` if absent/nil, or an argument error.
    public func optionalStringArgument(_ index: Int32) throws -> String? {
        if isNil(at: index) { return nil }
        return try stringArgument(index)
    }

    /// The integer argument at `index`, or an argument error.
    public func integerArgument(_ index: Int32) throws -> Int64 {
        if let value = integer(at: index) { return value }
        if type(at: index) == .number { throw LuaError.argument(index, "number has no integer representation") }
        throw typeMismatch(index, "number")
    }

    /// The number argument at `index`, or an argument error.
    public func numberArgument(_ index: Int32) throws -> Double {
        guard let value = number(at: index) else { throw typeMismatch(index, "number") }
        return value
    }

    /// The boolean argument at `index` (absent counts as `false` only if `default` is given).
    public func boolArgument(_ index: Int32, default fallback: Bool? = nil) throws -> Bool {
        if let value = bool(at: index) { return value }
        if let fallback, isNil(at: index) { return fallback }
        throw typeMismatch(index, "boolean")
    }

    /// Checks that the argument at `index` is a table and returns its absolute index.
    @discardableResult
    public func tableArgument(_ index: Int32) throws -> Int32 {
        guard lua_type(luaState, index) == LUA_TTABLE else { throw typeMismatch(index, "table") }
        return absolute(index)
    }

    /// Checks that the argument at `index` is a table or nil; returns its absolute index or nil.
    public func optionalTableArgument(_ index: Int32) throws -> Int32? {
        if isNil(at: index) { return nil }
        return try tableArgument(index)
    }
}
