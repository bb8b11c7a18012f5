import CLua
import CLuaShims

/// A sandboxed Lua 5.4 state. Not `Sendable`: one owner (thread or actor) uses it at a time.
///
/// Scripts get `string`, `table`, `math`, `utf8`, `coroutine`, a text-only `load`, a reduced
/// `os` (time, clock, date, getenv), `debug.traceback`, and a `require` limited to
/// `addModuleSearchPath` directories and Swift-registered modules.
public final class LuaState {
    /// The main thread; index 1 of its stack always holds the traceback message handler.
    let luaState: OpaquePointer
    let control: LuaControl
    var bindings: [LuaBindingBox] = []
    var timeoutSeconds: Double = 0
    /// Host entries into Lua currently active (re-entry from a binding is refused).
    var activeEntries = 0

    /// Creates a state with the sandboxed libraries.
    /// - Throws: `LuaScriptError` if the state cannot be created.
    public init() throws {
        guard let control = LuaControl(), let state = shim_newstate(control.pointer) else {
            throw LuaScriptError(kind: .memory, message: "cannot create Lua state")
        }
        self.control = control
        self.luaState = state
        shim_pushcfunction(luaState, shim_open_sandbox)
        let status = shim_host_pcall(luaState, 0, 0, 0)
        guard status == LUA_OK else {
            let message = LuaCallContext(luaState).string(at: -1) ?? "cannot open libraries"
            throw LuaScriptError(kind: .runtime, message: message)
        }
        lua_settop(luaState, 0)
        shim_pushcfunction(luaState, shim_msgh)
    }

    deinit {
        // Closing runs pending __gc metamethods, which may still call bindings: the boxes are
        // released only after this (when the stored properties go).
        lua_close(luaState)
    }

    /// A context on the main thread, for host-side pushes and reads.
    var hostContext: LuaCallContext { LuaCallContext(luaState) }

    /// Runs `body` and restores the main stack to its previous height.
    func balanced<R>(_ body: (LuaCallContext) throws -> R) rethrows -> R {
        let base = lua_gettop(luaState)
        defer { lua_settop(luaState, base) }
        return try body(hostContext)
    }
}

// MARK: - Limits, interrupts, memory

extension LuaState {
    /// Caps the memory Lua code may allocate (0 = unlimited). The first refused allocation
    /// ends the whole run with kind `.memory` (a `pcall` in the script cannot continue past
    /// it), even if an emergency collection could have freed enough. Bindings are never
    /// refused memory, so they can overshoot the cap by what they allocate themselves.
    public func setMemoryLimit(bytes: Int) {
        shim_control_set_limit(control.pointer, bytes > 0 ? bytes : 0)
    }

    /// Sets the time budget of each host entry (`run`, `call`, `resume`); nil or <= 0 = none.
    public func setTimeout(seconds: Double?) {
        timeoutSeconds = max(seconds ?? 0, 0)
    }

    /// Bytes currently allocated by this state.
    public var memoryInUse: Int { shim_control_used(control.pointer) }

    /// The highest `memoryInUse` seen so far.
    public var peakMemory: Int { shim_control_peak(control.pointer) }

    /// Runs a full garbage collection cycle.
    public func collectGarbage() {
        _ = shim_gc_collect(luaState)
    }

    /// Stops the running script at its next watchdog check (kind `.interrupted`); if no
    /// script runs, the next one stops as soon as it starts.
    public func interrupt() {
        shim_control_interrupt(control.pointer)
    }

    /// A `Sendable` handle whose `interrupt()` may be called from any thread.
    public var interruptHandle: LuaInterruptHandle { LuaInterruptHandle(control: control) }
}

// MARK: - Registering Swift functions and modules

extension LuaState {
    /// Pushes a new binding closure (kept alive by this state).
    func pushBinding(_ body: @escaping LuaFunction) {
        let box = LuaBindingBox(body)
        bindings.append(box)
        shim_pushbinding(luaState, luaKitDispatch, Unmanaged.passUnretained(box).toOpaque())
    }

    /// Pushes `package.loaded[module]`, creating the table if needed.
    func pushModuleTable(_ module: String) {
        _ = shim_registry_get(luaState, LUA_LOADED_TABLE)
        let loaded = lua_gettop(luaState)
        let ctx = hostContext
        if ctx.pushField(module, in: loaded) != .table {
            ctx.pop()
            ctx.pushNewTable()
            ctx.pushCopy(of: -1)
            ctx.setField(module, in: loaded)
        }
        shim_remove(luaState, loaded)
    }

    /// Registers `body` as `module.name` (the module table lives in `package.loaded`, so
    /// `require(module)` returns it and error messages say "module.name").
    public func register(module: String, name: String, _ body: @escaping LuaFunction) {
        balanced { ctx in
            pushModuleTable(module)
            pushBinding(body)
            ctx.setField(name, in: -2)
        }
    }

    /// Makes the module table also a global of the same name (e.g. `cds`).
    public func exposeGlobally(module: String) {
        balanced { _ in
            pushModuleTable(module)
            lua_setglobal(luaState, module)
        }
    }

    /// Registers `body` as a global function (e.g. to replace `print`).
    public func registerGlobal(name: String, _ body: @escaping LuaFunction) {
        balanced { _ in
            pushBinding(body)
            lua_setglobal(luaState, name)
        }
    }

    /// Sets a global variable to a value.
    public func setGlobal(_ name: String, _ value: LuaValue) {
        balanced { ctx in
            ctx.push(value)
            lua_setglobal(luaState, name)
        }
    }

    /// Reads a global variable as a `LuaValue` (raw read of the globals table).
    public func global(_ name: String) -> LuaValue {
        balanced { ctx in
            shim_pushglobaltable(luaState)
            return ctx.value(field: name, in: -1)
        }
    }

    /// Adds a directory `require` searches for `name.lua` and `name/init.lua` (text only).
    public func addModuleSearchPath(_ directory: String) {
        balanced { ctx in
            _ = shim_registry_get(luaState, SHIM_SEARCH_DIRS_KEY)
            ctx.push(directory)
            ctx.setIndex(ctx.rawLength(of: -2) + 1, in: -2)
        }
    }
}

// MARK: - Lua modules embedded by the host

extension LuaState {
    /// Registers Lua source as the module `name` in `package.preload`; `require(name)` runs it once.
    /// - Throws: `LuaScriptError` of kind `.syntax` if the source does not compile.
    public func registerModule(named name: String, source: String) throws {
        try balanced { ctx in
            try pushChunk(source, chunkName: "=" + name)
            _ = shim_registry_get(luaState, LUA_PRELOAD_TABLE)
            ctx.pushCopy(of: -2)
            ctx.setField(name, in: -2)
        }
    }
}
