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
    @Option(parsing: .unconditional, help: "How many runs to show.") var limit = 20
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
        guard entry.outcome == RunHistoryEntry.running, entry.host == ProcessEnvironment.hostName else { return entry }
        var resolved = entry
        if kill(entry.pid, 0) != 0 && errno == ESRCH { resolved.outcome = RunHistoryEntry.killed }
        return resolved
    }
}
