import Foundation

/// Time for the scheduler: the real clock, or a virtual one in tests.
public protocol SchedulerClock: AnyObject, Sendable {
    /// The current time.
    func now() -> Date
    /// Returns at `deadline` (nil = no deadline) or as soon as `wakeUp` is signalled.
    func wait(until deadline: Date?, wakeUp: WakeUpSignal)
}

/// A wake-up flag the scheduler's wait can be cut short by (a run ended, a stop was asked).
public final class WakeUpSignal: @unchecked Sendable {
    private let condition = NSCondition()
    private var pending = false

    public init() {}

    /// Wakes the waiting scheduler (or the next wait).
    public func signal() {
        condition.lock()
        pending = true
        condition.signal()
        condition.unlock()
    }

    /// Clears and returns the flag without waiting.
    public func consume() -> Bool {
        condition.lock()
        defer { pending = false; condition.unlock() }
        return pending
    }

    /// Waits until signalled or the deadline passes; clears the flag.
    public func wait(until deadline: Date?) {
        condition.lock()
        while !pending {
            if let deadline {
                if !condition.wait(until: deadline) { break }
            } else {
                condition.wait()
            }
        }
        pending = false
        condition.unlock()
    }
}

/// The wall clock.
public final class SystemClock: SchedulerClock {
    public init() {}
    public func now() -> Date { Date() }
    public func wait(until deadline: Date?, wakeUp: WakeUpSignal) { wakeUp.wait(until: deadline) }
}
