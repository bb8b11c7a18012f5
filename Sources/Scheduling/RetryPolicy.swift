import Foundation

/// How often a run that failed temporarily (exit 75) is tried, and how long to wait.
public struct RetryPolicy: Sendable, Equatable {
    /// Attempts in all, the first included (1 = no retry).
    public var attempts = 1
    /// Seconds before the second attempt; each later wait doubles.
    public var backoff = 60.0
    /// The longest wait between attempts, in seconds.
    public var maxBackoff = 3600.0

    public init(attempts: Int = 1, backoff: Double = 60, maxBackoff: Double = 3600) {
        (self.attempts, self.backoff, self.maxBackoff) = (attempts, backoff, maxBackoff)
    }

    /// Seconds to wait before attempt `attempt` (2, 3, …): backoff, 2×backoff, … capped.
    public func delay(beforeAttempt attempt: Int) -> Double {
        min(maxBackoff, backoff * pow(2, Double(max(0, attempt - 2))))
    }
}

/// What happens to fire times that passed while no scheduler was running.
public enum MissedRunPolicy: String, Sendable, Equatable, CaseIterable {
    /// Forget them; wait for the next fire time.
    case skip
    /// Run once at start-up when at least one fire time was missed since the job's last run.
    case runOnce = "run_once"
}
