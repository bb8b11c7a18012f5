import Foundation
import SyncHost

/// Ends the process when a script does not stop within a few seconds of its `--timeout` or of
/// SIGINT/SIGTERM. Both reach a script between Lua instructions, so a library call that does
/// not return (a string pattern that backtracks for hours, `("a"):rep(5000):find(".-.-.-b")`)
/// would otherwise hold the run, and ignore the signal, forever. What the run committed stays
/// committed, as after any interrupted run; what it had not committed is not, and no token
/// is saved.
final class HardStop: @unchecked Sendable {
    /// Seconds past the deadline (or the signal) before the process is ended.
    static let grace = 3.0

    private let timeout: Double?
    private let script: String
    private let lock = NSLock()
    private var finished = false
    /// When the watched work started; nil while nothing is watched (a REPL between statements).
    private var started: Date?

    init(timeout: Double?, script: String, watching: Bool = true) {
        self.timeout = timeout
        self.script = script
        started = watching ? Date() : nil
    }

    /// Starts watching (on a thread of its own: the script's may never come back).
    func start() {
        let thread = Thread { [self] in
            var signalled: Date?
            while !isFinished {
                Thread.sleep(forTimeInterval: 0.1)
                let now = Date()
                guard let started = lock.withLock({ self.started }) else {
                    signalled = nil
                    continue
                }
                if let timeout, now.timeIntervalSince(started) > timeout + Self.grace {
                    stop("did not stop within \(Int(Self.grace)) s of its --timeout of \(timeout) s", code: "script.timeout", status: 1)
                }
                if ScriptHost.interruptRequested {
                    signalled = signalled ?? now
                    if now.timeIntervalSince(signalled!) > Self.grace {
                        stop("did not stop within \(Int(Self.grace)) s of SIGINT/SIGTERM", code: "script.interrupted", status: 75)
                    }
                }
            }
        }
        thread.name = "cdsync.hard-stop"
        thread.start()
    }

    /// Watches one piece of work (a REPL statement) from now until `pause()`.
    func watch() { lock.withLock { started = Date() } }

    /// Stops watching until the next `watch()`.
    func pause() { lock.withLock { started = nil } }

    /// The run ended by itself.
    func finish() {
        lock.withLock { finished = true }
    }

    private var isFinished: Bool { lock.withLock { finished } }

    private func stop(_ what: String, code: String, status: Int32) -> Never {
        let message = "\(script): error: the script \(what): it was waiting in a call that does not return (a request to "
            + "a Web API server that does not answer, or a string pattern that backtracks without end); stopped, with "
            + "writes not yet committed discarded and no token saved [\(code)]\n"
        FileHandle.standardError.write(Data(message.utf8))
        _exit(status)
    }
}
