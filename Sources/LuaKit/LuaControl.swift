import CLuaShims

/// Owns the C control block (allocator counters, limits, interrupt flag). Shared by the
/// state and its interrupt handles so the flag outlives neither.
final class LuaControl: @unchecked Sendable {
    let pointer: OpaquePointer

    init?() {
        guard let pointer = shim_control_new() else { return nil }
        self.pointer = pointer
    }

    deinit {
        shim_control_free(pointer)
    }
}

/// A handle that can stop a running script from another thread or a signal-safe context.
public struct LuaInterruptHandle: Sendable {
    let control: LuaControl

    /// Asks the script to stop; it fails with kind `.interrupted` at its next watchdog check.
    public func interrupt() {
        shim_control_interrupt(control.pointer)
    }
}

/// Process-wide interrupt requests (SIGINT/SIGTERM), seen by every `LuaState`.
public enum LuaInterrupts {
    /// Installs SIGINT and SIGTERM handlers that request an interrupt. Returns false on failure.
    @discardableResult
    public static func installSignalHandlers() -> Bool { shim_install_signal_handlers() == 0 }

    /// Requests an interrupt of every running script (async-signal-safe).
    public static func requestAll() { shim_request_global_interrupt() }

    /// Clears a process-wide interrupt request so scripts can run again.
    public static func clear() { shim_clear_global_interrupt() }

    /// True once a process-wide interrupt was requested and not cleared.
    public static var isRequested: Bool { shim_global_interrupt_requested() != 0 }

    /// True once SIGTERM arrived (it also requests an interrupt; `clear` does not forget it).
    public static var isTerminationRequested: Bool { shim_terminate_requested() != 0 }
}
