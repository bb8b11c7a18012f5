import ArgumentParser
import EntityModel
import EntityStore
import Foundation
import Scheduling

/// `cdsync runs`: the run history kept in the store.
struct RunsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "runs",
        abstract: "List recorded runs, newest first.",
        discussion: "A run of this host whose process is gone without recording its end is shown as killed.")

    @OptionGroup var store: StoreOptions
    @Option(help: "Only runs of this job (the --lock name, else the script's file name).") var job: String?
    @Flag(help: "Only runs that did not succeed.") var failed = false
    @Option(help: "How many runs to show.") var limit = 20
    @Flag(help: "One JSON object per run (JSON lines).") var json = false

    func validate() throws {
        guard (1...100_000).contains(limit) else { throw ValidationError("--limit must be 1 to 100000") }
    }

    func run() throws {
        let entries: [RunHistoryEntry]
        do {
            entries = try EntityStore(path: store.path).runHistory(job: job, unsuccessfulOnly: failed, limit: limit)
                .map { Self.resolvingDeadRuns($0, storePath: store.path) }
                .filter { !failed || $0.outcome != RunHistoryEntry.running }
        } catch { throw ErrorReport.print(error) }
        if json {
            entries.forEach { print(RunHistoryPrinter.json($0)) }
        } else if entries.isEmpty {
            print("no runs recorded")
        } else {
            print(RunHistoryPrinter.table(entries))
        }
    }

    /// A `running` row of this host whose process is gone was killed. (The job's lock is not
    /// probed: even a shared probe could make a starting `run --lock` see it as held.)
    static func resolvingDeadRuns(_ entry: RunHistoryEntry, storePath: String) -> RunHistoryEntry {
        guard entry.outcome == RunHistoryEntry.running, entry.host == ProcessInfo.processInfo.hostName else { return entry }
        var resolved = entry
        if kill(entry.pid, 0) != 0 && errno == ESRCH { resolved.outcome = RunHistoryEntry.killed }
        return resolved
    }
}

/// `cdsync runs` output: a table for people, JSON lines for programs.
enum RunHistoryPrinter {
    static func table(_ entries: [RunHistoryEntry]) -> String {
        let formatter = ISO8601DateFormatter.cdsync
        var rows = [["ID", "JOB", "STARTED", "SECONDS", "OUTCOME", "EXIT", "CREATED", "UPDATED", "UNCHANGED", "DELETED", "FAILED", "ERROR"]]
        for entry in entries {
            let seconds = entry.endedAt.map { String(format: "%.2f", $0.timeIntervalSince(entry.startedAt)) } ?? "-"
            let counts = entry.counts
            rows.append([String(entry.id), entry.job, formatter.string(from: entry.startedAt), seconds, entry.outcome,
                         entry.exitCode.map(String.init) ?? "-", String(counts.created), String(counts.updated),
                         String(counts.unchanged), String(counts.deleted), String(counts.failed), firstLine(entry.error)])
        }
        return SchemaPrinter.align(rows)
    }

    static func json(_ entry: RunHistoryEntry) -> String {
        var event = SchedulerEvent("run").with("id", Int(entry.id)).with("job", entry.job).with("script", entry.script)
            .with("pid", Int(entry.pid)).with("host", entry.host).with("started", entry.startedAt)
        if let ended = entry.endedAt {
            event = event.with("ended", ended).with("seconds", json: String(format: "%.3f", ended.timeIntervalSince(entry.startedAt)))
        }
        event = event.with("outcome", entry.outcome).with("exit_code", json: entry.exitCode.map(String.init) ?? "null")
        let counts = entry.counts
        for (name, value) in [("created", counts.created), ("updated", counts.updated), ("unchanged", counts.unchanged),
                              ("deleted", counts.deleted), ("failed", counts.failed)] {
            event = event.with(name, value)
        }
        event = event.with("tokens_before", json: tokensJSON(entry.tokensBefore))
            .with("tokens_after", json: entry.tokensAfter.map(tokensJSON) ?? "null").with("error", entry.error)
        // The event line starts with time and event; a history line starts with its own members.
        let line = event.line(at: entry.startedAt)
        return "{" + line.drop { $0 != "," }.dropFirst().drop { $0 != "," }.dropFirst()
    }

    private static func tokensJSON(_ tokens: [String: String]) -> String {
        "{" + tokens.keys.sorted().map { "\(SchedulerEvent.quote($0)):\(SchedulerEvent.quote(tokens[$0]!))" }.joined(separator: ",") + "}"
    }

    private static func firstLine(_ text: String?) -> String {
        guard let text else { return "" }
        let line = text.split(separator: "\n").first.map(String.init) ?? ""
        return line.count > 80 ? String(line.prefix(77)) + "..." : line
    }
}
