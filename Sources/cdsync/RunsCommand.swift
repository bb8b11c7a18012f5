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
        if (kill(entry.pid, 0) != 0 && errno == ESRCH) || isZombie(entry.pid) { resolved.outcome = RunHistoryEntry.killed }
        return resolved
    }

    /// True for a process that has ended but not been reaped by its parent yet (state `Z` in
    /// `/proc/PID/stat`): it still answers `kill(pid, 0)`, and a killed run looked `running`
    /// until its parent (a shell, `timeout`, the scheduler) collected it.
    static func isZombie(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return false }
        // "PID (name) S …": the state follows the name, which may itself hold spaces or parentheses
        return stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).hasPrefix("Z")
    }
}
