import Foundation

/// One job of a jobs file: what to run, when, against which store, and how to retry.
public struct JobDefinition: Sendable, Equatable {
    /// The job's name: the lock name, the history's job column, the systemd unit suffix.
    public var name: String
    /// The Lua script, relative to the jobs file's directory unless absolute.
    public var script: String
    public var schedule: CronExpression
    /// The zone the schedule's wall-clock times are read in.
    public var timeZone: TimeZone
    /// The store; nil = the scheduler's default (`--db`, `$CDSYNC_DB`, `./cdsync.db`).
    public var target: JobTarget?
    /// The script's `arg` table.
    public var arguments: [String] = []
    public var options = JobRunOptions()
    /// Extra environment variables for the run, sorted by name.
    public var environment: [(name: String, value: String)] = []
    public var retry = RetryPolicy()
    public var missed = MissedRunPolicy.skip

    public static func == (lhs: JobDefinition, rhs: JobDefinition) -> Bool {
        lhs.name == rhs.name && lhs.script == rhs.script && lhs.schedule == rhs.schedule && lhs.timeZone == rhs.timeZone
            && lhs.target == rhs.target && lhs.arguments == rhs.arguments && lhs.options == rhs.options
            && lhs.environment.map(\.name) == rhs.environment.map(\.name) && lhs.environment.map(\.value) == rhs.environment.map(\.value)
            && lhs.retry == rhs.retry && lhs.missed == rhs.missed
    }

    /// The next fire time strictly after `date`.
    public func nextFire(after date: Date) -> Date? { schedule.nextFire(after: date, in: timeZone) }

    /// Whether a name can be a job name: 1-64 of `A-Z a-z 0-9 . _ -`, not starting with `.` or `-`.
    public static func isValidName(_ name: String) -> Bool {
        guard (1...64).contains(name.count), let first = name.unicodeScalars.first, first != ".", first != "-" else { return false }
        return name.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "._-".unicodeScalars.contains($0)) }
    }
}

/// Where a job's data lives.
public enum JobTarget: Sendable, Equatable {
    /// An embedded store file.
    case file(String)
    /// A remote service (`http://` or `https://`); `cdsync run` does not support it yet.
    case url(String)

    /// The value passed to `cdsync run --db`.
    public var argument: String {
        switch self {
        case .file(let path): path
        case .url(let url): url
        }
    }
}

/// The `cdsync run` options a job may set; nil = run's default.
public struct JobRunOptions: Sendable, Equatable {
    public var batchSize: Int?
    public var onError: String?
    public var rejects: String?
    public var maxMemory: Int?
    public var timeout: Double?
    public var atomic = false
    public var modulePaths: [String] = []

    public init() {}

    /// The options as `cdsync run` arguments.
    public var commandLineArguments: [String] {
        var arguments: [String] = []
        if let batchSize { arguments += ["--batch-size", String(batchSize)] }
        if let onError { arguments += ["--on-error", onError] }
        if let rejects { arguments += ["--rejects", rejects] }
        if let maxMemory { arguments += ["--max-memory", String(maxMemory)] }
        if let timeout { arguments += ["--timeout", timeout == timeout.rounded() ? String(Int(timeout)) : String(timeout)] }
        if atomic { arguments.append("--atomic") }
        for path in modulePaths { arguments += ["--module-path", path] }
        return arguments
    }
}

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
