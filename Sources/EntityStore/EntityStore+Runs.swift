import EntityModel
import Foundation
import GRDB

/// One row of the run history (`_cdsync_runs`).
public struct RunHistoryEntry: Sendable, Equatable {
    public var id: Int64 = 0
    /// The job name (`cdsync run --lock NAME`), else the script's file name.
    public var job: String
    public var script: String
    public var pid: Int32
    public var host: String
    public var startedAt: Date
    public var endedAt: Date?
    /// `running` until the run ends; then the run's outcome, or `killed` for a run that
    /// never recorded its end.
    public var outcome: String
    public var exitCode: Int32?
    public var counts = RunHistoryCounts()
    /// Saved change tokens (name → token) when the run started and when it ended.
    public var tokensBefore: [String: String]
    public var tokensAfter: [String: String]?
    public var error: String?

    /// A row for a run that is starting.
    public init(job: String, script: String, pid: Int32, host: String, startedAt: Date, tokensBefore: [String: String]) {
        (self.job, self.script, self.pid, self.host, self.startedAt) = (job, script, pid, host, startedAt)
        self.tokensBefore = tokensBefore
        outcome = RunHistoryEntry.running
    }

    /// The outcome of a run that has not recorded its end.
    public static let running = "running"
    /// The outcome given to a `running` row once it is known that its process is gone.
    public static let killed = "killed"
}

/// The counts a run reports.
public struct RunHistoryCounts: Sendable, Equatable {
    public var created = 0, updated = 0, unchanged = 0, deleted = 0, failed = 0
    public init(created: Int = 0, updated: Int = 0, unchanged: Int = 0, deleted: Int = 0, failed: Int = 0) {
        (self.created, self.updated, self.unchanged, self.deleted, self.failed) = (created, updated, unchanged, deleted, failed)
    }
}

extension EntityStore {
    /// Rows kept per job; older ones are deleted when a run starts.
    public static let runHistoryLimitPerJob = 10_000

    /// Records a run's start and returns its id.
    /// - Throws: `store.unavailable`.
    public func recordRunStart(_ entry: RunHistoryEntry) throws -> Int64 {
        try write { context in
            try context.db.execute(sql: """
                INSERT INTO \(SystemTables.runs)(job, script, pid, host, started_at, outcome, tokens_before) VALUES (?, ?, ?, ?, ?, ?, ?)
                """, arguments: [entry.job, entry.script, entry.pid, entry.host, Self.millis(entry.startedAt), entry.outcome,
                                 Self.encode(entry.tokensBefore)])
            let id = context.db.lastInsertedRowID
            try context.db.execute(sql: "DELETE FROM \(SystemTables.runs) WHERE job = ? AND id <= ?",
                                   arguments: [entry.job, id - Int64(Self.runHistoryLimitPerJob)])
            return id
        }
    }

    /// Records how a run ended.
    /// - Throws: `store.unavailable`.
    public func recordRunEnd(id: Int64, endedAt: Date, outcome: String, exitCode: Int32, counts: RunHistoryCounts,
                             tokensAfter: [String: String], error: String?) throws {
        try write { context in
            try context.db.execute(sql: """
                UPDATE \(SystemTables.runs) SET ended_at = ?, outcome = ?, exit_code = ?, created = ?, updated = ?, unchanged = ?,
                deleted = ?, failed = ?, tokens_after = ?, error = ? WHERE id = ?
                """, arguments: [Self.millis(endedAt), outcome, exitCode, counts.created, counts.updated, counts.unchanged,
                                 counts.deleted, counts.failed, Self.encode(tokensAfter), error, id])
        }
    }

    /// Marks the job's `running` rows as `killed`; called by a run that holds the job's lock,
    /// which proves no earlier run of the job is alive. Returns how many rows changed.
    public func markAbandonedRuns(job: String, before id: Int64) throws -> Int {
        try write { context in
            try context.db.execute(sql: "UPDATE \(SystemTables.runs) SET outcome = ? WHERE job = ? AND outcome = ? AND id < ?",
                                   arguments: [RunHistoryEntry.killed, job, RunHistoryEntry.running, id])
            return context.db.changesCount
        }
    }

    /// The newest runs first, optionally of one job and only those that did not succeed.
    public func runHistory(job: String? = nil, unsuccessfulOnly: Bool = false, limit: Int = 20) throws -> [RunHistoryEntry] {
        var conditions: [String] = []
        var arguments: [DatabaseValueConvertible] = []
        if let job { conditions.append("job = ?"); arguments.append(job) }
        if unsuccessfulOnly { conditions.append("outcome <> 'succeeded'") }
        let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        return try read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM \(SystemTables.runs) \(filter) ORDER BY id DESC LIMIT ?",
                             arguments: StatementArguments(arguments + [limit])).map(Self.historyEntry)
        }
    }

    /// The latest start of each job.
    public func lastRunStarts() throws -> [String: Date] {
        try read { db in
            let rows = try Row.fetchAll(db, sql: "SELECT job, max(started_at) AS started FROM \(SystemTables.runs) GROUP BY job")
            return Dictionary(uniqueKeysWithValues: rows.map { ($0["job"], Self.date($0["started"])) })
        }
    }

    private static func historyEntry(_ row: Row) -> RunHistoryEntry {
        var entry = RunHistoryEntry(job: row["job"], script: row["script"], pid: row["pid"], host: row["host"],
                                    startedAt: date(row["started_at"]), tokensBefore: decode(row["tokens_before"]) ?? [:])
        entry.id = row["id"]
        entry.endedAt = (row["ended_at"] as Int64?).map(date)
        entry.outcome = row["outcome"]
        entry.exitCode = row["exit_code"]
        entry.counts = RunHistoryCounts(created: row["created"], updated: row["updated"], unchanged: row["unchanged"],
                                        deleted: row["deleted"], failed: row["failed"])
        entry.tokensAfter = decode(row["tokens_after"])
        entry.error = row["error"]
        return entry
    }

    private static func millis(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded()) }
    private static func date(_ millis: Int64) -> Date { Date(timeIntervalSince1970: Double(millis) / 1000) }

    private static func encode(_ tokens: [String: String]) -> String {
        FlatJSONObject.text(tokens) ?? "{}"
    }

    private static func decode(_ text: String?) -> [String: String]? {
        text.flatMap(FlatJSONObject.object)
    }
}
