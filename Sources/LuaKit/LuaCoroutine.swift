import CLua
import CLuaShims

/// A script running in its own Lua thread, driven by the host with `LuaState.resume`.
public final class LuaCoroutine {
    let reference: Int32
    let thread: OpaquePointer
    /// True once the coroutine returned, failed or was cancelled; it cannot be resumed then.
    public internal(set) var isFinished = false

    init(reference: Int32, thread: OpaquePointer) {
        self.reference = reference
        self.thread = thread
    }
}

/// The outcome of one `resume`.
public enum LuaResumeResult {
    /// The body returned these values; the coroutine is finished.
    case finished([LuaValue])
    /// The body (or a binding via `ctx.yield`) yielded these values; resume it to continue.
    case yielded([LuaValue])
    /// The body failed; the coroutine is finished.
    case failed(LuaScriptError)
}

extension LuaState {
    /// Compiles `source` as the body of a new coroutine (not started yet).
    /// - Throws: `LuaScriptError` of kind `.syntax` if the source does not compile.
    public func startCoroutine(_ source: String, chunkName: String) throws -> LuaCoroutine {
        try balanced { _ in
            try pushChunk(source, chunkName: chunkName)
            return makeCoroutine()
        }
    }

    /// Makes a coroutine whose body is a referenced function.
    public func startCoroutine(_ function: LuaFunctionRef) -> LuaCoroutine {
        balanced { _ in
            _ = shim_getref(luaState, function.reference)
            return makeCoroutine()
        }
    }

    /// Moves the function on top of the main stack into a new anchored thread.
    private func makeCoroutine() -> LuaCoroutine {
        let thread = lua_newthread(luaState)!
        lua_rotate(luaState, -2, 1)
        lua_xmove(luaState, thread, 1)
        return LuaCoroutine(reference: shim_ref(luaState), thread: thread)
    }

    /// Resumes the coroutine, passing `values` (as arguments at first, then as the results of
    /// the pending yield), and runs it until it yields, returns or fails.
    public func resume(_ coroutine: LuaCoroutine, with values: [LuaValue] = []) -> LuaResumeResult {
        guard !coroutine.isFinished else {
            return .failed(LuaScriptError(kind: .runtime, message: "cannot resume dead coroutine"))
        }
        guard activeEntries == 0 else {
            return .failed(LuaScriptError(kind: .runtime, message: "LuaState resumed from inside a binding"))
        }
        let co = coroutine.thread
        let count = LuaValueWriter.pushAll(co, values)
        activeEntries += 1
        shim_control_begin_run(control.pointer, timeoutSeconds)
        var resultCount: Int32 = 0
        let status = shim_host_resume(luaState, co, count, &resultCount)
        activeEntries -= 1
        switch status {
        case LUA_OK, LUA_YIELD:
            let values = LuaValueReader.readAll(co, from: lua_gettop(co) - resultCount + 1, count: resultCount)
            lua_settop(co, -resultCount - 1)
            if status == LUA_YIELD { return .yielded(values) }
            finish(coroutine)
            return .finished(values)
        default:
            let error = scriptError(status: status, thread: co, traceback: .fromThread(co))
            _ = shim_close_thread(co, luaState)  // runs the body's pending __close handlers
            finish(coroutine)
            return .failed(error)
        }
    }

    /// Runs a script as a coroutine to the end; `onYield` gets each yield's values and returns
    /// the values to resume with. Throwing from `onYield` cancels the coroutine.
    public func runCoroutine(
        _ source: String, chunkName: String, onYield: ([LuaValue]) throws -> [LuaValue]
    ) -> LuaResumeResult {
        let coroutine: LuaCoroutine
        do {
            coroutine = try startCoroutine(source, chunkName: chunkName)
        } catch let error as LuaScriptError {
            return .failed(error)
        } catch {
            return .failed(LuaScriptError(kind: .runtime, message: String(describing: error)))
        }
        var next: [LuaValue] = []
        while true {
            switch resume(coroutine, with: next) {
            case .yielded(let values):
                do {
                    next = try onYield(values)
                } catch {
                    cancel(coroutine)
                    return .failed(LuaScriptError(kind: .runtime, message: String(describing: error)))
                }
            case let outcome:
                return outcome
            }
        }
    }

    /// Stops a suspended coroutine, running its pending `__close` handlers.
    public func cancel(_ coroutine: LuaCoroutine) {
        guard !coroutine.isFinished else { return }
        let saved = activeEntries
        activeEntries += 1
        _ = shim_close_thread(coroutine.thread, luaState)
        activeEntries = saved
        finish(coroutine)
    }

    private func finish(_ coroutine: LuaCoroutine) {
        guard !coroutine.isFinished else { return }
        coroutine.isFinished = true
        lua_settop(coroutine.thread, 0)
        shim_unref(luaState, coroutine.reference)
    }
}
