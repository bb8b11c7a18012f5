import CLua
import CLuaShims

/// A Lua function anchored in the registry; release it with `LuaState.release(_:)`.
public struct LuaFunctionRef: Hashable, Sendable {
    let reference: Int32
}

extension LuaState {
    /// Compiles text source (bytecode is refused) and returns the chunk as a function.
    /// - Throws: `LuaScriptError` of kind `.syntax` (or `.memory`).
    @discardableResult
    public func loadText(_ source: String, chunkName: String) throws -> LuaFunctionRef {
        try balanced { _ in
            try pushChunk(source, chunkName: chunkName)
            return LuaFunctionRef(reference: shim_ref(luaState))
        }
    }

    /// Compiles and runs `source`, returning the chunk's results.
    /// - Throws: `LuaScriptError` (syntax, runtime, memory, timeout, interrupted).
    @discardableResult
    public func run(_ source: String, chunkName: String) throws -> [LuaValue] {
        try balanced { ctx in
            let base = ctx.top
            try pushChunk(source, chunkName: chunkName)
            try enter(functionAt: base + 1)
            return LuaValueReader.readAll(luaState, from: base + 1, count: ctx.top - base)
        }
    }

    /// Calls a referenced function with `LuaValue` arguments and returns all its results.
    /// - Throws: `LuaScriptError`.
    @discardableResult
    public func call(_ function: LuaFunctionRef, _ arguments: [LuaValue] = []) throws -> [LuaValue] {
        try call(
            function,
            arguments: { ctx in _ = LuaValueWriter.pushAll(ctx.luaState, arguments) },
            results: { ctx, first, count in LuaValueReader.readAll(ctx.luaState, from: first, count: count) })
    }

    /// Calls a global function by name with `LuaValue` arguments.
    /// - Throws: `LuaScriptError` (kind `.runtime` if the global is not a function).
    @discardableResult
    public func callGlobal(_ name: String, _ arguments: [LuaValue] = []) throws -> [LuaValue] {
        let function = try reference(global: name)
        defer { release(function) }
        return try call(function, arguments)
    }

    /// The fast path: `arguments` pushes the arguments, `results` reads the results at
    /// `first ..< first + count` of the context before they are popped.
    /// - Throws: `LuaScriptError`, or whatever `results` throws.
    public func call<R>(
        _ function: LuaFunctionRef, arguments: (LuaCallContext) throws -> Void,
        results: (LuaCallContext, _ first: Int32, _ count: Int32) throws -> R
    ) throws -> R {
        try balanced { ctx in
            let base = ctx.top
            _ = shim_getref(luaState, function.reference)
            try arguments(ctx)
            try enter(functionAt: base + 1)
            return try results(ctx, base + 1, ctx.top - base)
        }
    }

    /// Anchors the global function `name` in the registry.
    /// - Throws: `LuaScriptError` if the global is not a function.
    public func reference(global name: String) throws -> LuaFunctionRef {
        try balanced { ctx in
            shim_pushglobaltable(luaState)
            guard ctx.pushField(name, in: -1) == .function else {
                throw LuaScriptError(kind: .runtime, message: "global '\(name)' is not a function")
            }
            return LuaFunctionRef(reference: shim_ref(luaState))
        }
    }

    /// Releases a function reference; it must not be used afterwards.
    public func release(_ function: LuaFunctionRef) {
        shim_unref(luaState, function.reference)
    }

    /// Compiles text source onto the stack.
    func pushChunk(_ source: String, chunkName: String) throws {
        let name = chunkName.hasPrefix("=") || chunkName.hasPrefix("@") ? chunkName : "@" + chunkName
        var text = source
        let status = text.withUTF8 { utf8 in
            utf8.withMemoryRebound(to: CChar.self) { shim_loadtext(luaState, $0.baseAddress, $0.count, name) }
        }
        guard status == LUA_OK else {
            let message = hostContext.string(at: -1) ?? "cannot load chunk"
            let location = LuaScriptError.parseLocation(message)
            let kind: LuaScriptError.Kind = status == LUA_ERRMEM ? .memory : .syntax
            throw LuaScriptError(kind: kind, message: message, chunk: location?.chunk, line: location?.line)
        }
    }

    /// Calls the function at `index` (arguments above it) with the traceback handler,
    /// leaving its results from `index` on.
    /// - Throws: `LuaScriptError`.
    func enter(functionAt index: Int32) throws {
        guard activeEntries == 0 else {
            throw LuaScriptError(
                kind: .runtime, message: "LuaState entered from inside a binding; use LuaCallContext.protectedCall")
        }
        activeEntries += 1
        defer { activeEntries -= 1 }
        shim_control_begin_run(control.pointer, timeoutSeconds)
        let status = shim_host_pcall(luaState, lua_gettop(luaState) - index, LUA_MULTRET, 1)
        if status != LUA_OK {
            throw scriptError(status: status, thread: luaState, traceback: .fromHandler)
        }
        // a limit the script caught (`pcall`, a coroutine) and went on after, or a deadline
        // passed where the watchdog does not run (a finalizer): still the run's end
        let killed = shim_control_check_deadline(control.pointer)
        if killed != SHIM_KILLED_NONE {
            let kind: LuaScriptError.Kind = killed == SHIM_KILLED_MEMORY ? .memory : killed == SHIM_KILLED_TIMEOUT ? .timeout : .interrupted
            throw LuaScriptError(kind: kind, message: String(cString: shim_killed_message(killed)))
        }
    }
}
