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
