import ArgumentParser
import EntityModel
import EntityStore
import Foundation
import Scheduling
import SyncHost

/// The run history of one `cdsync run`: a `running` row before the script starts, the
/// outcome, counts and tokens once it ends. A run killed in between leaves its row
/// `running`; the next run holding the job's lock marks it `killed`.
struct RunHistoryRecorder {
    let store: EntityStore
    let id: Int64

    /// Records the start.
    /// - Throws: `store.unavailable`.
    static func start(store: EntityStore, job: String, script: String, holdsLock: Bool) throws -> RunHistoryRecorder {
        let entry = RunHistoryEntry(job: job, script: script, pid: getpid(), host: ProcessEnvironment.hostName,
                                    startedAt: Date(), tokensBefore: try tokens(store))
        let id = try store.recordRunStart(entry)
        if holdsLock { _ = try store.markAbandonedRuns(job: job, before: id) }
        return RunHistoryRecorder(store: store, id: id)
    }

    /// Records the end; a failure to write it is reported on stderr and does not change the exit code.
    func finish(_ report: RunReport) {
        let counters = report.counters
        let counts = RunHistoryCounts(created: counters.created, updated: counters.updated, unchanged: counters.unchanged,
                                      deleted: counters.deleted, failed: counters.failed)
        do {
            try store.recordRunEnd(id: id, endedAt: Date(), outcome: report.outcome.rawValue, exitCode: report.exitCode,
                                   counts: counts, tokensAfter: try Self.tokens(store), error: report.error)
        } catch {
            ErrorReport.writeStandardError("warning: the run history could not record this run's end: \(error)")
        }
    }

    private static func tokens(_ store: EntityStore) throws -> [String: String] {
        Dictionary(uniqueKeysWithValues: try store.allTokens().map { ($0.name, $0.token) })
    }

    /// Takes the job's lock next to the store, or exits 73 when a live run holds it.
    static func acquireLock(job: String, storePath: String, json: Bool) throws -> JobLock {
        do {
            return try JobLock.acquire(job: job, directory: JobLock.directory(forStore: storePath))
        } catch let failure as JobLock.Failure {
            ErrorReport.writeStandardError("error: \(failure)")
            if json {
                let message = SchedulerEvent.quote("\(failure)")
                print("{\"outcome\":\"locked\",\"exit_code\":\(ExitCode.locked.rawValue),\"error\":\(message)}")
            }
            if case .unavailable = failure { throw ExitCode.temporaryFailure }
            throw ExitCode.locked
        }
    }

    /// Whether `--db` names a remote service rather than a store file.
    static func isRemoteTarget(_ path: String) -> Bool {
        let lower = path.lowercased()
        return lower.hasPrefix("http://") || lower.hasPrefix("https://")
    }
}
