import EntityModel
import EntityStore
import Foundation
import Scheduling

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
        return event.membersObject
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
