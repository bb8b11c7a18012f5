import CLua
import CLuaShims

/// Where the traceback of a failed entry comes from.
enum LuaTracebackSource {
    /// `lua_pcall` with `shim_msgh`: appended to string messages, in the registry otherwise.
    case fromHandler
    /// `lua_resume`: the dead coroutine's stack is still there to walk.
    case fromThread(OpaquePointer)
}

extension LuaState {
    /// Builds a `LuaScriptError` from the error object on top of `thread` and pops it.
    func scriptError(status: Int32, thread: OpaquePointer, traceback source: LuaTracebackSource) -> LuaScriptError {
        let errorContext = LuaCallContext(thread)
        defer { errorContext.pop() }
        var error: LuaScriptError
        if let text = errorContext.string(at: -1) {
            error = stringError(text, source: source)
        } else if errorContext.type(at: -1) == .table {
            error = tableError(errorContext, source: source)
        } else {
            // as the standalone `lua` prints them: a number as itself, other values by their type
            let message: String
            switch errorContext.type(at: -1) {
            case .number:
                message = errorContext.isInteger(at: -1) ? String(errorContext.integer(at: -1) ?? 0) : String(errorContext.number(at: -1) ?? 0)
            case .boolean: message = "(error object is a boolean value: \(errorContext.isTruthy(at: -1)))"
            default: message = "(error object is a \(errorContext.typeName(at: -1)) value)"
            }
            error = LuaScriptError(kind: .runtime, message: message)
            error.traceback = separateTraceback(source).traceback
        }
        error.kind = kind(for: status)
        // a module `require` found but could not compile (the text searcher's message): the
        // script does not compile, as errors.md says, though Lua raised it while running
        if error.kind == .runtime, error.code == nil, error.message.contains(Self.moduleSyntaxMarker) { error.kind = .syntax }
        return error
    }

    /// How the text searcher (sandbox.c) starts the error of a module that does not compile.
    static let moduleSyntaxMarker = "error loading module '"


    private func kind(for status: Int32) -> LuaScriptError.Kind {
        switch shim_control_killed(control.pointer) {
        case SHIM_KILLED_MEMORY: return .memory
        case SHIM_KILLED_TIMEOUT: return .timeout
        case SHIM_KILLED_INTERRUPT: return .interrupted
        default: break
        }
        switch status {
        case LUA_ERRMEM: return .memory
        case LUA_ERRSYNTAX: return .syntax
        default: return .runtime
        }
    }

    private func stringError(_ text: String, source: LuaTracebackSource) -> LuaScriptError {
        var message = text
        var traceback: String?
        switch source {
        case .fromHandler:
            (message, traceback) = LuaScriptError.splitTraceback(text)
        case .fromThread:
            traceback = separateTraceback(source).traceback
        }
        let location = LuaScriptError.parseLocation(message)
        return LuaScriptError(
            kind: .runtime, message: message, traceback: traceback, chunk: location?.chunk, line: location?.line)
    }

    private func tableError(_ ctx: LuaCallContext, source: LuaTracebackSource) -> LuaScriptError {
        let table = ctx.absolute(-1)
        var fields: [String: String] = [:]
        try? ctx.forEachEntry(in: table) { key, value in
            guard let name = ctx.string(at: key) else { return }
            switch ctx.type(at: value) {
            case .string: fields[name] = ctx.string(at: value)
            case .boolean: fields[name] = ctx.isTruthy(at: value) ? "true" : "false"
            case .number:
                fields[name] = ctx.integer(at: value).map { String($0) } ?? ctx.number(at: value).map { String($0) }
            default: break
            }
        }
        let extra = separateTraceback(source)
        let location = extra.where.flatMap(LuaScriptError.parseLocation)
        return LuaScriptError(
            kind: .runtime, message: fields["message"] ?? "(error object is a table value)",
            traceback: extra.traceback, code: fields["code"], key: fields["key"], fields: fields,
            chunk: location?.chunk, line: location?.line)
    }

    /// Fetches the traceback and "chunk:line" kept aside for a non-string error.
    private func separateTraceback(_ source: LuaTracebackSource) -> (traceback: String?, where: String?) {
        balanced { ctx in
            switch source {
            case .fromHandler:
                _ = shim_registry_get(luaState, SHIM_TRACEBACK_KEY)
                _ = shim_registry_get(luaState, SHIM_WHERE_KEY)
                let result = (ctx.string(at: -2), ctx.string(at: -1))
                ctx.pushNil()
                shim_registry_set(luaState, SHIM_TRACEBACK_KEY)
                ctx.pushNil()
                shim_registry_set(luaState, SHIM_WHERE_KEY)
                return result
            case .fromThread(let thread):
                luaL_traceback(luaState, thread, nil, 0)
                shim_push_where(luaState, thread, 0)
                return (ctx.string(at: -2), ctx.string(at: -1))
            }
        }
    }
}
