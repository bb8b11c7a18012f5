import DataFiles
import Foundation

/// How a run ended and what it did.
public struct RunReport: Sendable {
    /// How the run ended.
    public enum Outcome: String, Sendable {
        /// Everything ran and was written.
        case succeeded
        /// The script ran to the end but some rows were rejected (`--on-error continue`).
        case rowsRejected = "rows_rejected"
        /// The script failed (Lua error, failed row with `--on-error stop`, limit reached).
        case failed
        /// Stopped by SIGINT/SIGTERM after the in-flight batch.
        case interrupted
        /// The store was unavailable; retrying later may work.
        case temporaryFailure = "temporary_failure"
    }

    public var outcome: Outcome
    public var counters: RunCounters
    /// Names of the change tokens saved.
    public var tokensAdvanced: [String]
    public var seconds: Double
    /// The error as printed: `script.lua:LINE: message [code]`.
    public var error: String?
    /// The error's code, when it has one.
    public var errorCode: String?
    /// Writes queued but never sent (after an interrupt or failure).
    public var discardedWrites: Int
    public var rejectsPath: String?

    /// The process exit code: 0 ok, 1 failed, 65 rows rejected, 75 temporary failure or interrupted.
    public var exitCode: Int32 {
        switch outcome {
        case .succeeded: return 0
        case .rowsRejected: return 65
        case .failed: return 1
        case .interrupted, .temporaryFailure: return 75
        }
    }

    /// The end-of-run summary for people.
    public var summary: String {
        let rate = seconds > 0 ? Double(counters.rows) / seconds : 0
        var lines = [String(format: "%@ in %.2f s: %d rows (%.0f rows/s)", outcome.rawValue, seconds, counters.rows, rate)]
        let rows: [(String, Int)] = [("created", counters.created), ("updated", counters.updated), ("unchanged", counters.unchanged),
                                     ("deleted", counters.deleted), ("failed", counters.failed), ("requests", counters.requests)]
        for (name, value) in rows { lines.append("  " + name.padding(toLength: 10, withPad: " ", startingAt: 0) + String(value)) }
        lines.append("  tokens    " + (tokensAdvanced.isEmpty ? "none advanced" : tokensAdvanced.joined(separator: ", ")))
        if let rejectsPath, counters.failed > 0 { lines.append("  rejects   \(rejectsPath)") }
        if discardedWrites > 0 { lines.append("  discarded \(discardedWrites) queued writes (not sent)") }
        return lines.joined(separator: "\n")
    }

    /// Seconds since this process started (Linux: its start time in /proc/self/stat, so the
    /// loading of the program counts), or since this was first asked where that is unknown.
    public static func processSeconds() -> Double {
        let now = bootSeconds()
        return now - (processStart ?? now)
    }

    private static let processStart: Double? = {
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        guard ticks > 0, let stat = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return fallbackStart }
        // the fields after the command's ")": state is field 3, starttime field 22
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 19, let start = Double(fields[19]) else { return fallbackStart }
        return start / ticks
    }()

    private static let fallbackStart = bootSeconds()

    private static func bootSeconds() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_BOOTTIME, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }

    /// The process's peak resident memory in MiB (Linux: VmHWM), nil where unknown.
    public static func peakResidentMegabytes() -> Double? {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
              let kilobytes = Double(line.split(separator: " ").dropFirst().first ?? "") else { return nil }
        return kilobytes / 1024
    }

    /// The machine-readable summary (one JSON object).
    public var json: String {
        var members: [(String, JSONValue)] = [
            ("outcome", .string(outcome.rawValue)), ("exit_code", .number(String(exitCode))),
            ("seconds", .number(String(format: "%.3f", seconds))), ("rows", .number(String(counters.rows))),
            ("created", .number(String(counters.created))), ("updated", .number(String(counters.updated))),
            ("unchanged", .number(String(counters.unchanged))), ("deleted", .number(String(counters.deleted))),
            ("failed", .number(String(counters.failed))), ("requests", .number(String(counters.requests))),
            ("tokens_advanced", .array(tokensAdvanced.map(JSONValue.string))),
        ]
        if let peak = Self.peakResidentMegabytes() { members.append(("peak_rss_mb", .number(String(format: "%.1f", peak)))) }
        if let error { members.append(("error", .string(error))) }
        if let errorCode { members.append(("error_code", .string(errorCode))) }
        if let rejectsPath { members.append(("rejects", .string(rejectsPath))) }
        return (try? JSONValue.object(members).serialized()) ?? "{}"
    }
}
