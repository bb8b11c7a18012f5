import CLua
import CLuaShims

/// A Swift class whose instances scripts can hold as userdata.
///
/// `deinit` and `luaClose()` may run inside any Lua allocation (garbage collection), so keep
/// them trivial: no shared state, no locks.
public protocol LuaObject: AnyObject {
    /// The metatable name, also shown by `tostring` and in type errors (e.g. "cds.Cursor").
    static var luaTypeName: String { get }
    /// Called once, by `__close` (to-be-closed variable, iterator end) or `__gc`.
    func luaClose()
    /// Called instead of `luaClose()` when `__close` runs because an error is unwinding the
    /// block (Lua passes it the error). Calls `luaClose()` by default.
    func luaClose(afterError: Bool)
}

extension LuaObject {
    /// Does nothing by default.
    public func luaClose() {}
    public func luaClose(afterError: Bool) { luaClose() }
}

extension LuaState {
    /// Creates the metatable for `type`: `methods` become `obj:name(...)` (the object is
    /// argument 1), `next` makes `ctx.returnIterator(over:)` usable for this type.
    /// `metamethods` (`__index`, `__tostring`, `__eq`, `__concat`, …) replace the defaults.
    public func registerObjectType<T: LuaObject>(
        _ type: T.Type, methods: [String: LuaFunction] = [:], next: LuaFunction? = nil,
        metamethods: [String: LuaFunction] = [:]
    ) {
        balanced { ctx in
            _ = luaL_newmetatable(luaState, T.luaTypeName)
            let metatable = ctx.top
            shim_keep_metatable(luaState, metatable, metatableKey(T.self))
            ctx.pushNewTable(fieldCapacity: Int32(methods.count))
            for (name, body) in methods {
                pushBinding(body)
                ctx.setField(name, in: -2)
            }
            ctx.setField("__index", in: metatable)
            let finalizer: LuaFunction = { ctx in LuaObjectSlot<T>.finalize(ctx) }
            pushBinding(finalizer)
            ctx.setField("__gc", in: metatable)
            pushBinding(finalizer)
            ctx.setField("__close", in: metatable)
            pushBinding { ctx in LuaObjectSlot<T>.describe(ctx) }
            ctx.setField("__tostring", in: metatable)
            if let next {
                pushBinding { ctx in
                    // `local it = f(...); for x in it do` keeps only the function, not its state
                    guard ctx.type(at: 1) != .nil else {
                        throw LuaError.message("the \(T.luaTypeName) iterator was called without its state: call the function in the for statement itself (for x in f(...) do), which keeps all the values it returns")
                    }
                    return try next(ctx)
                }
                ctx.setField(LuaObjectSlot<T>.nextKey, in: metatable)
            }
            for (name, body) in metamethods {
                pushBinding(body)
                ctx.setField(name, in: metatable)
            }
            ctx.push(false)
            ctx.setField("__metatable", in: metatable)
        }
    }
}

/// The userdata block holds one retained pointer; nil once closed.
enum LuaObjectSlot<T: LuaObject> {
    static var nextKey: String { "__luakit_next" }

    static func slot(_ ctx: LuaCallContext, _ index: Int32) -> UnsafeMutablePointer<UnsafeMutableRawPointer?>? {
        guard let raw = shim_testudata_keyed(ctx.luaState, index, metatableKey(T.self)) else { return nil }
        return raw.assumingMemoryBound(to: UnsafeMutableRawPointer?.self)
    }

    /// `__gc` and `__close`: empty the slot first, then close and release (once). `__close`
    /// gets the error unwinding its block as argument 2 (nil otherwise; `__gc` has none).
    static func finalize(_ ctx: LuaCallContext) -> Int32 {
        ctx.close(objectAt: 1, as: T.self, afterError: ctx.top >= 2 && ctx.type(at: 2) != .nil)
        return 0
    }

    static func describe(_ ctx: LuaCallContext) -> Int32 {
        guard let slot = slot(ctx, 1) else { return 0 }
        if let pointer = slot.pointee {
            ctx.push("\(T.luaTypeName): \(pointer)")
        } else {
            ctx.push("\(T.luaTypeName) (closed)")
        }
        return 1
    }
}

extension LuaCallContext {
    /// Pushes `object` as a userdata of its registered type (retaining it), with `userValues`
    /// slots for Lua values it keeps alive (`pushUserValue`, `setUserValue`).
    public func push<T: LuaObject>(object: T, userValues: Int32 = 0) {
        let size = MemoryLayout<UnsafeMutableRawPointer?>.size
        let raw = lua_newuserdatauv(luaState, size, userValues)!
        raw.assumingMemoryBound(to: UnsafeMutableRawPointer?.self).pointee =
            Unmanaged.passRetained(object).toOpaque()
        shim_setmetatable_keyed(luaState, metatableKey(T.self))
    }

    /// The object at `index` if it is an open userdata of type `T` (never raises).
    public func object<T: LuaObject>(at index: Int32, as type: T.Type = T.self) -> T? {
        guard let pointer = LuaObjectSlot<T>.slot(self, index)?.pointee else { return nil }
        return Unmanaged<T>.fromOpaque(pointer).takeUnretainedValue()
    }

    /// The object argument at `index`, or an argument error ("T expected" / "T is closed").
    public func objectArgument<T: LuaObject>(_ index: Int32, as type: T.Type = T.self) throws -> T {
        guard let slot = LuaObjectSlot<T>.slot(self, index) else { throw typeMismatch(index, T.luaTypeName) }
        guard let pointer = slot.pointee else { throw LuaError.argument(index, "\(T.luaTypeName) is closed") }
        return Unmanaged<T>.fromOpaque(pointer).takeUnretainedValue()
    }

    /// Pushes user value `slot` (from 1) of the userdata at `index` and returns its type
    /// (`.none`, with nil pushed, when the userdata has no such slot).
    @discardableResult
    public func pushUserValue(_ slot: Int32, of index: Int32) -> LuaType {
        LuaType(rawValue: lua_getiuservalue(luaState, index, slot)) ?? .nil
    }

    /// Pops the top value into user value `slot` of the userdata at `index`; false (the value
    /// popped all the same) when the userdata has no such slot.
    @discardableResult
    public func setUserValue(_ slot: Int32, of index: Int32) -> Bool {
        lua_setiuservalue(luaState, absolute(index), slot) != 0
    }

    /// Closes the object at `index` now (as `__close` would); later use sees it closed.
    /// `afterError`: an error is unwinding the block that held it.
    public func close<T: LuaObject>(objectAt index: Int32, as type: T.Type = T.self, afterError: Bool = false) {
        guard let slot = LuaObjectSlot<T>.slot(self, index), let pointer = slot.pointee else { return }
        slot.pointee = nil
        let object = Unmanaged<T>.fromOpaque(pointer)
        if afterError { object.takeUnretainedValue().luaClose(afterError: true) } else { object.takeUnretainedValue().luaClose() }
        object.release()
    }

    /// Pushes `next, object, nil, object` for a generic `for`, the 4th being the to-be-closed
    /// value, so `__close` runs on loop end, `break` or error. Returns the result count (4).
    /// `next` (from `registerObjectType`) gets the object as argument 1.
    /// - Throws: `LuaError.message` if `T` was registered without `next`.
    public func returnIterator<T: LuaObject>(over object: T, userValues: Int32 = 0) throws -> Int32 {
        _ = shim_getmetatable_named(luaState, T.luaTypeName)
        guard pushField(LuaObjectSlot<T>.nextKey, in: -1) == .function else {
            pop(2)
            throw LuaError.message("\(T.luaTypeName) has no iterator")
        }
        lua_rotate(luaState, -2, -1)
        pop()
        push(object: object, userValues: userValues)
        pushNil()
        pushCopy(of: -2)
        return 4
    }
}

/// The registry key of a LuaKit type's metatable: the address of the Swift type, unique per
/// type and fixed for the process (see `shim_keep_metatable`).
func metatableKey(_ type: Any.Type) -> UnsafeRawPointer {
    unsafeBitCast(type, to: UnsafeRawPointer.self)
}
