import EntityModel
import Foundation
import LuaKit

/// Everything one script run shares: the service, the write queue, tokens waiting for the
/// run to commit, and where in the source files the script is reading.
final class SyncSession {
    let service: DataService
    let tokens: TokenStore
    let options: RunOptions
    let queue: WriteQueue
    let progress: ProgressLine?
    /// Tokens reached by change loops that ran to the end; saved only after the writes commit.
    var pendingTokens: [String: SavedToken] = [:]
    /// Names of the tokens saved during this run.
    var advancedTokens: [String] = []
    /// The source file position being read (`accounts.csv:17`), for rejects and errors.
    var currentSource: SourcePosition?
    /// True when `currentSource` is the row of a loop an error left (kept for the run's error
    /// to name): a loop that starts after it does not take it as its outer loop's row.
    var sourceLeftByError = false
    /// The files the script writes, closed (and their failures reported) when it ends.
    let outputs = OutputFiles()
    /// Files the script's writers refuse (the store's own, the rejects file).
    let protectedFiles: ProtectedFiles
    /// Key sets filled by the run's upserts (`cds.upserted_keys`).
    var keyCollectors: [KeyCollector] = []
    private var definitions: [String: EntityDefinition]?

    init(service: DataService, tokens: TokenStore, options: RunOptions, rejects: RejectsWriter?) {
        self.service = service
        self.tokens = tokens
        self.options = options
        protectedFiles = ProtectedFiles(storePath: options.storePath, rejectsPath: options.rejectsPath)
        queue = WriteQueue(service: service, options: options, rejects: rejects)
        progress = options.showProgress ? ProgressLine() : nil
    }

    /// Checks that a token name is not already taken for another entity in this run: the
    /// token saved would be one of the two, and the next run's loop over the other would fail.
    /// - Throws: an argument error (argument 2 of `cds.changes` and `cds.start_tracking`).
    func checkTokenName(_ name: String, tracks entity: String) throws {
        // a blank name, or one with line breaks or tabs, cannot be told apart in `tokens list`
        if name.trimmingCharacters(in: .whitespaces).isEmpty || name.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
            throw LuaError.argument(2, "a token name must be visible text without control characters (line breaks, tabs), got \(name.debugDescription)")
        }
        if let pending = pendingTokens[name], pending.entity != entity {
            throw LuaError.argument(2, "the token '\(name)' already tracks '\(pending.entity)' in this run, not '\(entity)'")
        }
    }

    /// The run's counters as reported: over the network, `requests` are the requests really
    /// sent (retries included) rather than the service requests the host made.
    var reportedCounters: RunCounters {
        var counters = queue.counters
        if let counting = service as? RequestCounting { counters.requests = counting.requestsSent }
        return counters
    }

    /// Queues a write made by the script at `line`; returns the box its result will land in.
    func write(_ request: consuming ServiceRequest, line: Int) throws -> ResultBox {
        let box = ResultBox()
        box.statement = queue.statement
        for collector in keyCollectors { collector.collect(request, line: line) }
        try queue.enqueue(request, WriteQueue.Pending(line: line, source: currentSource, box: box))
        progress?.update(queue.counters, pending: 1)
        return box
    }

    /// Runs a read after sending pending writes, so the script reads its own writes.
    func read(_ request: ServiceRequest) throws -> ServiceResponse {
        try queue.flush()
        queue.countRequest()
        return try service.execute(request)
    }

    /// Starts a read that runs while the script goes on (after pending writes are sent);
    /// writes the script makes meanwhile are not seen by it.
    /// - Throws: `RowFailure` when an earlier record failed and the policy is stop.
    func startRead(_ request: ServiceRequest) throws -> WriteQueue.PendingRead {
        try queue.flush()
        queue.countRequest()
        return queue.startRead(request)
    }

    /// Saves tokens whose changes have been processed (after all writes are sent).
    /// - Throws: inside `cds.transaction` (its writes are not sent yet), or a row failure.
    func checkpoint() throws -> Int {
        guard !queue.isInTransaction else {
            throw ServiceError(.invalidArgument, "cds.checkpoint cannot run inside cds.transaction: the transaction's writes are not sent yet.")
        }
        // tokens never follow writes that failed or were lost, caught or not
        try queue.throwIfWritesFailed()
        try queue.flush()
        try queue.commitGroup()  // the writes are committed before the tokens that follow them
        let saved = pendingTokens.values.sorted { $0.name < $1.name }
        for token in saved {
            try tokens.saveToken(token)
            if !advancedTokens.contains(token.name) { advancedTokens.append(token.name) }
        }
        pendingTokens.removeAll()
        return saved.count
    }

    /// The definition of an entity (cached for the run).
    func definition(_ entity: String) throws -> EntityDefinition {
        if definitions == nil {
            definitions = Dictionary(uniqueKeysWithValues: try service.entityDefinitions().map { ($0.name, $0) })
        }
        guard let definition = definitions?[entity] else {
            throw ServiceError(.resourceNotFound, "The entity '\(entity)' does not exist.", entity: entity)
        }
        return definition
    }

    /// All entity names.
    func entityNames() throws -> [String] {
        _ = try? definition("")
        return (definitions ?? [:]).keys.sorted()
    }
}

/// A one-line progress display on stderr: rows, rate, errors.
final class ProgressLine {
    private let start = Date()
    private var lastDraw = Date.distantPast
    private var counter = 0

    func update(_ counters: RunCounters, pending: Int) {
        counter += 1
        guard counter % 1000 == 0 else { return }
        let now = Date()
        guard now.timeIntervalSince(lastDraw) >= 0.2 else { return }
        lastDraw = now
        let elapsed = max(now.timeIntervalSince(start), 0.001)
        let line = String(format: "\r%10d rows  %8.0f rows/s  %d errors ", counter, Double(counter) / elapsed, counters.failed)
        FileHandle.standardError.write(Data(line.utf8))
    }

    func finish() {
        if counter >= 1000 { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    }
}
