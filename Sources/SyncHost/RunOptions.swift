import EntityModel
import Foundation

/// What to do when a record is rejected.
public enum ErrorPolicy: String, Sendable, CaseIterable {
    /// Stop the run at the first rejected record (the default).
    case stop
    /// Write each rejected record to the rejects file and go on; the run exits 65.
    case `continue`
}

/// Options of one script run.
public struct RunOptions: Sendable {
    /// Writes sent per batch (1 to `ServiceRequest.maxBatchSize`).
    public var batchSize = ServiceRequest.maxBatchSize
    /// Whether a full batch is written while the script fills the next one (see `WriteQueue`).
    public var pipelined = true
    /// What a rejected record does to the run.
    public var onError = ErrorPolicy.stop
    /// Where rejected records go with `.continue` (`.csv` → CSV, anything else → JSON lines).
    public var rejectsPath: String?
    /// The store file the run uses (the embedded store, or where a remote run keeps its
    /// tokens): a script's writers refuse it and its log files (`ProtectedFiles`).
    public var storePath: String?
    /// Memory the script may use, in bytes (0 = unlimited).
    public var memoryLimit = 0
    /// Seconds the script may run (nil = unlimited).
    public var timeout: Double?
    /// Directories `require` searches for Lua modules (the stdlib first).
    public var modulePaths: [String] = []
    /// Arguments passed to the script as the global `arg` table.
    public var arguments: [String] = []
    /// Print a progress line to stderr.
    public var showProgress = false
    /// Run everything in one transaction: all or nothing (embedded store only).
    public var atomic = false
    /// Run in one transaction that is rolled back; print each record's outcome (embedded store only).
    public var dryRun = false
    /// Where `--dry-run` outcome lines go (default: standard output).
    public var outcomeLine: @Sendable (String) -> Void = { print($0) }

    /// Consecutive batches share one store transaction, committed after this many writes
    /// (or `groupCommitSeconds`, and before tokens are saved); 0 = every batch commits alone.
    /// Only with a store that supports run transactions, and never with `atomic` or `dryRun`.
    public var groupCommitRows = 0
    /// The longest a group of batches stays uncommitted, in seconds.
    public var groupCommitSeconds = 1.0

    /// Default options.
    public init() {}
}

/// The counts a run reports.
public struct RunCounters: Sendable, Equatable {
    public var created = 0
    public var updated = 0
    public var unchanged = 0
    public var deleted = 0
    public var failed = 0
    /// Requests sent to the data service (a batch counts once).
    public var requests = 0

    /// Records written or checked.
    public var rows: Int { created + updated + unchanged + deleted + failed }
}
