import EntityModel
import Foundation
import Synchronization

/// A file and line being read; formatted (`accounts.csv:17`) only when an error needs it.
struct SourcePosition {
    let file: String
    let line: Int
    var description: String { "\(file):\(line)" }
}

/// A rejected or failed record: where it came from and why.
public struct RowFailure: Error, Sendable {
    /// The service's error.
    public var error: ServiceError
    /// The script line of the call that wrote the record.
    public var line: Int
    /// The source position (`accounts.csv:17`) being read when the write was made, if any.
    public var source: String?
    /// The record's key as people read it.
    public var key: String
}

/// The host's write batching: writes queue up and go to the service in batches of
/// `batchSize` (ExecuteMultiple), or all at once at the end of `cds.transaction`.
///
/// Batches are pipelined: a full batch is handed to a serial worker queue and the script goes
/// on filling the next one while the service writes it, so the Lua side and the store use
/// both cores. Up to `pipelineDepth` batches are in flight (one being written, one waiting), so
/// the store does not wait while the script has a slow stretch (a garbage collection, a long
/// row). When the pipeline is full the script waits for the oldest batch only, and goes on as
/// soon as that one is written. Results are applied on the script's thread, in order, before
/// anything else reaches the service (reads, tokens, transactions, the end of the run). A
/// failure under `stop` still means nothing after the failing record is written: the worker
/// skips a batch queued behind a failed one (`Halt`), and its writes, and those the script
/// queued meanwhile, are marked not sent. Waiting is `DispatchQueue.sync` on the worker (as
/// GRDB waits on its own queue), never a semaphore and never Swift concurrency: the worker runs
/// its work one item per block (`WorkChain`), so a `sync` returns once the item it is on is done.
final class WriteQueue {
    /// Where a queued write comes from and where its result goes. (Its request is kept apart,
    /// in an array that becomes the batch's request as it is: no request is copied per write.)
    struct Pending {
        var line: Int
        var source: SourcePosition?
        var box: ResultBox?
    }

    let service: DataService
    let options: RunOptions
    let rejects: RejectsWriter?
    private(set) var counters = RunCounters()
    /// The first record that failed under `--on-error stop`: the run fails even if the
    /// script caught the error, because the writes after it in its batch were never sent.
    private(set) var stopFailure: RowFailure?
    /// Writes dropped because an earlier record of their batch failed under stop.
    private(set) var notSent = 0
    /// Why writes were dropped unsent, once any were (a batch that failed as a whole, what was
    /// queued behind it): the run fails with it even if the script caught the error, as with
    /// `stopFailure`, so a run that lost writes never reports success or saves a token.
    private(set) var lostWrites: ServiceError?
    private var pending: [Pending] = []
    private var pendingRequests: [ServiceRequest] = []
    /// Deletes among `pendingRequests`: a batch is sent once it holds `maxDeletesPerBatch`.
    private var pendingDeletes = 0
    private var transaction: (requests: [ServiceRequest], writes: [Pending])?

    /// A batch the worker is executing, and its outcome once done.
    private final class InFlight: @unchecked Sendable {
        let requests: [ServiceRequest]
        let batch: [Pending]
        var outcome: Result<ServiceResponse, Error>?
        /// Set on the worker when the batch was not sent because one before it failed.
        var skipped = false
        /// The store transaction (`GroupCommit.generation`) the batch was written in; set on the worker.
        var group = 0
        /// Set on the worker once `outcome` or `skipped` is (the script thread reads those only after).
        let finished = Atomic<Bool>(false)
        var isFinished: Bool { finished.load(ordering: .acquiring) }
        init(_ requests: [ServiceRequest], _ batch: [Pending]) {
            self.requests = requests
            self.batch = batch
        }
    }
    private let worker = DispatchQueue(label: "cdsync.write-batches")
    /// Everything the script hands the worker, in order (batches, reads, clearing `halt`).
    private let chain: WorkChain
    private static let releaser = DispatchQueue(label: "cdsync.release", qos: .utility)
    /// Batches sent and not yet applied, oldest first.
    private var inFlight: [InFlight] = []
    /// Batches in flight before the script waits for the oldest. (Deeper pipelines measured
    /// slower, not faster: the store then reads rows the script built long before, out of the
    /// processor's caches, and the run holds more memory; 16 batches: delta 6.92 s, 370-500 MB.)
    static let pipelineDepth = 2
    /// Set on the worker when a batch failed as `apply` will report it (any failure, or a
    /// failed record under stop); batches queued behind it are then skipped, not written. The
    /// script clears it (on the worker) once it has seen the failure.
    private final class Halt: @unchecked Sendable {
        var halted = false
    }
    private let halt = Halt()
    /// True when a read started by `startRead` may still be running on the worker.
    private var readInFlight = false
    /// Writes the script has queued so far; a read made ahead is used only if this has not moved.
    private(set) var writesQueued = 0

    /// Batches sharing store transactions (`RunOptions.groupCommitRows`); nil when each batch commits alone.
    private let group: GroupCommit?
    /// What the batches of the newest store transactions created, updated and deleted, by
    /// `GroupCommit.generation`: a transaction that is rolled back is taken out of `counters`
    /// (`forgetRolledBack`), so the run's summary never counts writes that were not kept.
    private var groupCounts: [Int: RunCounters] = [:]
    private var rolledBackForgotten = false

    init(service: DataService, options: RunOptions, rejects: RejectsWriter?) {
        self.service = service
        self.options = options
        self.rejects = rejects
        chain = WorkChain(worker)
        pending.reserveCapacity(options.batchSize)
        pendingRequests.reserveCapacity(options.batchSize)
        if options.groupCommitRows > 0, !options.atomic, !options.dryRun, let store = service as? RunTransactionSupport {
            group = GroupCommit(store: store, worker: worker, maxRows: options.groupCommitRows, maxAge: options.groupCommitSeconds)
        } else {
            group = nil
        }
    }

    var isInTransaction: Bool { transaction != nil }

    /// Queues a write; sends the batch when it is full (without waiting for it).
    /// - Throws: `RowFailure` when a record of an earlier batch failed and the policy is stop.
    func enqueue(_ request: consuming ServiceRequest, _ write: Pending) throws {
        writesQueued += 1
        if transaction != nil {
            guard transaction!.writes.count < Self.maxTransactionWrites else {
                throw ServiceError(.invalidArgument, "A cds.transaction holds at most \(Self.maxTransactionWrites) writes.")
            }
            write.box?.insideTransaction = true
            transaction!.requests.append(request)
            transaction!.writes.append(write)
            return
        }
        if case .delete = request { pendingDeletes += 1 }
        pendingRequests.append(request)
        pending.append(write)
        if pending.count >= options.batchSize || pendingDeletes >= Self.maxDeletesPerBatch { try send(wait: !options.pipelined) }
    }

    /// Sends every queued write and waits until all are written, and until any read started
    /// with `startRead` is done, so the script's own calls to the service never run beside one.
    /// - Throws: `RowFailure` for the first failed record when the policy is stop.
    func flush() throws {
        try send(wait: true)
        if readInFlight {
            chain.waitAll()
            readInFlight = false
        }
    }

    /// Commits the writes sent so far that share an open store transaction (before tokens are
    /// saved, and at the end of a run). Does nothing when batches commit alone.
    /// - Throws: `store.unavailable` when a group could not be committed (its writes were rolled back).
    func commitGroup() throws {
        guard let group else { return }
        chain.waitAll()
        worker.sync { group.commit() }
        try throwGroupFailure()
    }

    /// Throws a group's failure, every time once it happened (like a stop failure): nothing
    /// may be reported as written, and no token saved, after writes were rolled back.
    private func throwGroupFailure() throws {
        guard let group else { return }
        // read on the worker: its age timer may be committing right now
        let (failure, generation) = worker.sync(execute: { (group.failure, group.failedGeneration) })
        if let failure {
            forgetRolledBack(generation)
            throw failure
        }
    }

    /// Takes the writes of the store transaction `generation`, which was rolled back, out of
    /// the run's counts (once; no batch is written after a rollback).
    private func forgetRolledBack(_ generation: Int?) {
        guard !rolledBackForgotten, let generation, let lost = groupCounts[generation] else { return }
        rolledBackForgotten = true
        counters.created -= lost.created
        counters.updated -= lost.updated
        counters.deleted -= lost.deleted
    }

    /// Adds what a batch of store transaction `generation` wrote (`counters` now, against `before`).
    private func noteGroupCounts(_ generation: Int, since before: RunCounters) {
        guard group != nil else { return }
        var counts = groupCounts[generation] ?? RunCounters()
        counts.created += counters.created - before.created
        counts.updated += counters.updated - before.updated
        counts.deleted += counters.deleted - before.deleted
        groupCounts[generation] = counts
        // only the newest transactions can still be rolled back (a failure stops all writing)
        if groupCounts.count > 4, let oldest = groupCounts.keys.min() { groupCounts[oldest] = nil }
    }

    /// A read running on the worker while the script goes on; `wait()` gives its response.
    final class PendingRead: @unchecked Sendable {
        fileprivate var outcome: Result<ServiceResponse, Error>?
        private let chain: WorkChain

        fileprivate init(chain: WorkChain) { self.chain = chain }

        /// Waits for the read and returns its response.
        /// - Throws: the read's error.
        func wait() throws -> ServiceResponse {
            chain.waitAll()
            return try outcome!.get()
        }
    }

    /// Starts `request` on the worker, behind anything already sent, and returns at once.
    /// Writes queued after this call are not seen by the read.
    func startRead(_ request: ServiceRequest) -> PendingRead {
        let read = PendingRead(chain: chain)
        let service = self.service
        chain.submit { read.outcome = Result { try service.execute(request) } }
        readInFlight = true
        return read
    }

    /// Waits for the batch in flight and applies its results, ignoring its failure (used on
    /// the way out of a failed run, which reports the failure it already has).
    func settle() {
        do { try collect() } catch {}
        chain.waitAll()  // and any read made ahead
        readInFlight = false
    }

    private func send(wait: Bool) throws {
        do {
            // wait only once the pipeline is full, for its oldest batch (and for all before the
            // last batch of a flush)
            if wait { try collect() } else if inFlight.count >= Self.pipelineDepth { try collectOldest() }
        } catch {
            // a batch in flight failed (a record under stop, or the whole batch): what the
            // script queued meanwhile comes after the failure and is never sent
            markNotSent(pending[...], ServiceError(.notSent, "Not sent: \(Self.notSentReason(error))."))
            dropPending()
            throw error
        }
        guard !pending.isEmpty else { return }
        let flight = InFlight(pendingRequests, pending)
        // new buffers for the next batch: the flight keeps these (the request shares its array)
        pending = []
        pending.reserveCapacity(options.batchSize)
        pendingRequests = []
        pendingRequests.reserveCapacity(options.batchSize)
        pendingDeletes = 0
        counters.requests += 1
        let continueOnError = options.onError == .continue
        let request = ServiceRequest.executeMultiple(flight.requests, continueOnError: continueOnError,
                                                     returnResponses: true)
        let service = self.service
        let group = self.group
        let halt = self.halt
        let writes = flight.batch.count
        chain.submit {
            defer { flight.finished.store(true, ordering: .releasing) }
            guard !halt.halted else {
                flight.skipped = true
                return
            }
            do { try group?.beforeBatch() } catch {
                flight.outcome = .failure(error)
                halt.halted = true
                return
            }
            flight.group = group?.generation ?? 0
            flight.outcome = Result { try service.execute(request) }
            group?.afterBatch(writes: writes)
            if Self.fails(flight.outcome, continueOnError: continueOnError) { halt.halted = true }
        }
        inFlight.append(flight)
        if wait { try collect() }
    }

    /// True when `apply` reports a batch with this outcome as failed: the batch failed as a
    /// whole, or a record failed under stop.
    private static func fails(_ outcome: Result<ServiceResponse, Error>?, continueOnError: Bool) -> Bool {
        switch outcome {
        case .failure?: return true
        case .success(.batch(let isFaulted, _))?: return !continueOnError && isFaulted
        default: return false
        }
    }

    /// Waits for the batch in flight, then counts its results, fills its result objects and
    /// writes its rejects.
    private func collect() throws {
        guard !inFlight.isEmpty else { return }
        chain.waitAll()  // once this returns, the batches' work is done
        var flights: [InFlight] = []
        swap(&flights, &inFlight)
        var failure: Error?
        for flight in flights {
            if flight.skipped {
                // queued behind a failed batch: the worker never sent it
                let reason = failure.map(Self.notSentReason) ?? "the batch before it failed"
                markNotSent(flight.batch[...], ServiceError(.notSent, "Not sent: \(reason)."))
                continue
            }
            do { try apply(flight) } catch { failure = failure ?? error }
        }
        // freed here, on the script's thread: a batch shares objects with the batches the script
        // is building (a row shape, the reference objects of a region or owner named row after
        // row), and releasing them on another thread made every row's retain and release of
        // those objects contend across cores (delta: ~0.5 s more CPU than freeing them here)
        _ = consume flights
        if let failure {
            if let group { forgetRolledBack(worker.sync(execute: { group.failedGeneration })) }
            let halt = self.halt
            chain.submit { halt.halted = false }  // seen: batches sent from now on run again
            throw failure
        }
        // the batches' own results first (their rejects, their result objects), then a lost group
        try throwGroupFailure()
    }

    /// Waits for the oldest batch in flight, then applies it and any written after it, in
    /// order, as `collect` does; the batches still being written stay in flight. A batch that
    /// failed (or was skipped behind a failure) is left to `collect`, which settles everything.
    /// (A store transaction that could not commit is reported by `collect` too: every batch
    /// after it fails with it, and a flush always looks.)
    private func collectOldest() throws {
        guard let oldest = inFlight.first else { return }
        while !oldest.isFinished { worker.sync {} }  // one work item at a time: see `WorkChain`
        let continueOnError = options.onError == .continue
        var written = 0
        while written < inFlight.count, inFlight[written].isFinished, !inFlight[written].skipped,
              !Self.fails(inFlight[written].outcome, continueOnError: continueOnError) {
            written += 1
        }
        guard written > 0 else { return try collect() }
        let flights = Array(inFlight.prefix(written))
        inFlight.removeFirst(written)
        var failure: Error?
        for flight in flights {
            do { try apply(flight) } catch { failure = failure ?? error }
        }
        // freed on the script's thread, as in `collect`
        _ = consume flights
        if let failure { throw failure }
    }

    /// Why writes after a failure were not sent, as their error says.
    private static func notSentReason(_ error: Error) -> String {
        (error as? RowFailure).map { "an earlier record failed (script line \($0.line)) and the error policy is stop" }
            ?? "the batch before it failed (\((error as? ServiceError)?.message ?? "\(error)"))"
    }

    /// Counts a finished batch's results, fills its result objects and writes its rejects.
    private func apply(_ flight: InFlight) throws {
        let batch = flight.batch
        let continueOnError = options.onError == .continue
        let response: ServiceResponse
        switch flight.outcome {
        case .success(let value)?: response = value
        case .failure(let error as ServiceError)?:
            markNotSent(batch[...], error)
            throw error
        case .failure(let error)?: throw error
        case nil: return
        }
        guard case .batch(_, let items) = response else { return }
        let before = counters
        defer { noteGroupCounts(flight.group, since: before) }
        var firstFailure: RowFailure?
        for item in items {
            let write = batch[item.requestIndex]
            if let fault = item.fault {
                let failure = failure(fault, flight.requests[item.requestIndex], write)
                write.box?.error = fault
                write.box?.failureKey = failure.key
                write.box?.failureLine = failure.line
                counters.failed += 1
                if continueOnError { try rejects?.write(failure) } else if firstFailure == nil { firstFailure = failure }
            } else if let result = item.response {
                write.box?.response = result
                count(result)
            }
            if options.dryRun { options.outcomeLine(Self.outcomeLine(flight.requests[item.requestIndex], item)) }
        }
        if let firstFailure {
            stopFailure = stopFailure ?? firstFailure
            let ran = (items.last?.requestIndex ?? -1) + 1
            markNotSent(batch[ran...], ServiceError(.notSent,
                "Not sent: an earlier record of the same batch failed (script line \(firstFailure.line)) and the error policy is stop."))
            throw firstFailure
        }
    }

    /// Frees `value` on the releaser queue: freeing a thousand records is real work, and an
    /// idle core can do it off the script's path (change pages; write batches are freed on
    /// the script's thread, see `collect`). The caller hands over its only
    /// reference (`consume`), so the queue's is the last one however soon it runs (a woken
    /// thread often runs first on a busy core, and a reference the caller kept would then be
    /// the one to free it).
    static func releaseLater<T>(_ value: consuming T) {
        let box = Unmanaged.passRetained(ReleaseBox(value))
        releaser.async { box.release() }
    }

    private final class ReleaseBox<T>: @unchecked Sendable {
        let value: T
        init(_ value: consuming T) { self.value = value }
    }

    /// Gives writes that never reached the store an error, so reading their result says so.
    private func markNotSent(_ writes: ArraySlice<Pending>, _ error: ServiceError) {
        for write in writes where write.box?.response == nil && write.box?.error == nil {
            write.box?.error = error
            notSent += 1
            lostWrites = lostWrites ?? error
        }
    }

    /// Throws what the run already failed on although the script may have caught it: the first
    /// record that failed under stop, or writes dropped unsent. Before anything that would
    /// report the run's writes as done (its end, a checkpoint saving tokens).
    func throwIfWritesFailed() throws {
        if let failure = stopFailure { throw failure }
        if let lost = lostWrites { throw lost }
    }

    /// Forgets a stop failure and lost writes once their statement has been reported (the
    /// REPL goes on).
    func clearStopFailure() {
        stopFailure = nil
        lostWrites = nil
    }

    /// Drops queued writes that were never sent (after an interrupt or a script error); the
    /// batch in flight finishes first and is counted.
    func discardPending() -> Int {
        settle()
        defer { dropPending() }
        return pending.count
    }

    /// Forgets the queued writes (none of them will be sent).
    private func dropPending() {
        pending.removeAll(keepingCapacity: true)
        pendingRequests.removeAll(keepingCapacity: true)
        pendingDeletes = 0
    }

    /// Starts buffering writes for one all-or-nothing transaction.
    func beginTransaction() throws {
        guard transaction == nil else { throw ServiceError(.invalidArgument, "cds.transaction cannot be nested.") }
        try flush()
        transaction = ([], [])
    }

    /// A transaction goes to the service as one ExecuteTransaction, so it has the batch limit.
    static let maxTransactionWrites = ServiceRequest.maxBatchSize

    /// Deletes a batch holds at most. Inside a run's group transaction a batch runs in a
    /// savepoint, whose journal keeps the original of every page the batch changes (not needed
    /// for a batch committed on its own, but harmless); a delete changes pages all over its table and
    /// each of its indexes (unlike upserts in key order, which share pages), so 1,000 of them
    /// journal ~24 MB, past what SQLite keeps in memory (8 MiB, config.c), and the rest goes to
    /// a temporary file. 250 stay under it (55,000 scattered deletes of the benchmark's accounts:
    /// 4.7–5.2 s in batches of 1,000, 4.1–4.2 s in batches of 300).
    static let maxDeletesPerBatch = 250

    /// Sends the buffered writes as one ExecuteTransaction.
    /// - Throws: `RowFailure` for the failing record; nothing of the transaction is written then.
    func commitTransaction() throws {
        guard let (requests, writes) = transaction else { return }
        transaction = nil
        defer { for write in writes { write.box?.insideTransaction = false } }
        guard !writes.isEmpty else { return }
        counters.requests += 1
        do {
            guard case .transaction(let responses) = try service.execute(.executeTransaction(requests, returnResponses: true)) else { return }
            for (write, response) in zip(writes, responses) {
                write.box?.response = response
                write.box?.insideTransaction = false
                count(response)
            }
        } catch let error as ServiceError {
            let index = error.requestIndex ?? 0
            counters.failed += 1
            let failed = min(index, writes.count - 1)
            let failure = failure(error, requests[failed], writes[failed])
            // the record that failed gets its error; the others say why they were not written
            let notWritten = ServiceError(.notSent,
                "Not written: the transaction was rolled back because another of its records (\(failure.key)) failed: \(error.message)", entity: error.entity)
            for (position, write) in writes.enumerated() {
                write.box?.error = position == failed ? error : notWritten
                write.box?.insideTransaction = false
            }
            throw failure
        }
    }

    /// Forgets the buffered writes of a transaction whose function failed; their results say
    /// they were not written (they looked like writes still to come).
    func abandonTransaction() {
        let notWritten = ServiceError(.notSent, "Not written: the function given to cds.transaction raised an error, so the transaction was rolled back.")
        for write in transaction?.writes ?? [] {
            write.box?.insideTransaction = false
            if write.box?.response == nil && write.box?.error == nil { write.box?.error = notWritten }
        }
        transaction = nil
    }

    /// The REPL statement new results belong to (`ResultBox.statement`; 0 in a run).
    private(set) var statement = 0
    /// Statements whose writes were rolled back, with why: their results say so when read.
    private var rolledBack: [Int: ServiceError] = [:]

    /// Starts a REPL statement: the results of its writes belong to it.
    func beginStatement() { statement += 1 }

    /// Ends the statement; when it was rolled back, the results of its writes (sent or still
    /// queued, read now or later) say so instead of reporting them done.
    func endStatement(rolledBack: Bool, reason: String) {
        if rolledBack { self.rolledBack[statement] = ServiceError(.notSent, reason) }
    }

    /// Why the writes of the box's statement were rolled back, if they were.
    func rollback(of box: ResultBox) -> ServiceError? {
        rolledBack.isEmpty ? nil : rolledBack[box.statement]
    }

    /// Counts a response that did not come through a batch (reads, direct calls).
    func count(_ response: ServiceResponse) {
        switch response {
        case .created: counters.created += 1
        case .upserted(_, let created, let changed):
            if created { counters.created += 1 } else if changed { counters.updated += 1 } else { counters.unchanged += 1 }
        case .updated(_, let changed, _):
            if changed { counters.updated += 1 } else { counters.unchanged += 1 }
        case .deleted: counters.deleted += 1
        default: break
        }
    }

    /// Counts a request sent outside a batch.
    func countRequest() { counters.requests += 1 }

    /// Puts the write counts back to `saved` after the writes since were rolled back (a REPL
    /// statement that failed); requests sent and rows rejected stay counted.
    func restoreWriteCounts(_ saved: RunCounters) {
        counters.created = saved.created
        counters.updated = saved.updated
        counters.unchanged = saved.unchanged
        counters.deleted = saved.deleted
    }

    /// Counts a rejected source row (for example a malformed CSV row).
    func countRejectedRow() { counters.failed += 1 }

    private func failure(_ error: ServiceError, _ request: ServiceRequest, _ write: Pending) -> RowFailure {
        // Only a create without an id needs the schema: its key values are in its fields.
        var definition: EntityDefinition?
        if case .create(let entity, nil, _) = request {
            definition = try? service.entityDefinitions().first { $0.name == entity }
        }
        let requestKey = Self.keyText(request, definition: definition)
        // A create always names its record; error.key would be some other record's (a lookup's).
        let key = requestKey.isEmpty ? (error.key ?? requestKey) : requestKey
        return RowFailure(error: error, line: write.line, source: write.source?.description, key: key)
    }

    /// `create account(accountnumber='A1')`, as `--dry-run` prints it.
    static func outcomeLine(_ request: ServiceRequest, _ item: BatchItem) -> String {
        let target = "\(request.entity ?? "?")(\(keyText(request)))"
        if let fault = item.fault { return "fail \(target): \(fault.message) [\(fault.code.value)]" }
        switch item.response {
        case .created?: return "create \(target)"
        case .upserted(_, let created, let changed)?: return "\(created ? "create" : changed ? "update" : "unchanged") \(target)"
        case .updated(_, let changed, _)?: return "\(changed ? "update" : "unchanged") \(target)"
        case .deleted?: return "delete \(target)"
        default: return "done \(target)"
        }
    }

    /// What identifies the record of a write, as people read it. A create names its id if it
    /// has one, else the values of `definition`'s first Active key when its fields hold them
    /// all, else `(new record)`.
    static func keyText(_ request: ServiceRequest, definition: EntityDefinition? = nil) -> String {
        switch request {
        case .upsert(let reference, _, _), .update(let reference, _, _), .delete(let reference, _): return reference.keyDescription
        case .upsertRow(let row): return row.reference.keyDescription
        case .create(let entity, let id, let fields):
            if let id { return id.description }
            let present = { (column: String) in fields[column].map { !$0.isNull } ?? false }
            guard let key = definition?.keys.first(where: { $0.status == .active && $0.columns.allSatisfy(present) }) else {
                return "(new record)"
            }
            let values = Dictionary(uniqueKeysWithValues: key.columns.map { ($0, fields[$0]!) })
            return EntityReference(entity, keys: values).keyDescription
        default: return ""
        }
    }

}

/// The worker's work in the order it was handed over, run one item per block on the worker's
/// serial queue: `worker.sync {}` then returns as soon as the item running is done, rather than
/// after everything queued, so the script can wait for its oldest batch alone. The lock guards
/// only the list (held for an append or a removal, never while waiting).
final class WorkChain: @unchecked Sendable {
    private let worker: DispatchQueue
    private let lock = NSLock()
    /// Submitted and not yet taken (a few at most: the script waits once two batches are in flight).
    private var items: [@Sendable () -> Void] = []
    private var running = false

    init(_ worker: DispatchQueue) { self.worker = worker }

    /// Runs `item` on the worker after everything submitted before it.
    func submit(_ item: @escaping @Sendable () -> Void) {
        lock.lock()
        items.append(item)
        let start = !running
        running = true
        lock.unlock()
        if start { worker.async { self.runNext() } }
    }

    private func runNext() {
        lock.lock()
        // taken out, so that a batch's work (and what it holds) goes once it has run
        let item = items.removeFirst()
        lock.unlock()
        item()
        lock.lock()
        let more = !items.isEmpty
        if !more { running = false }
        lock.unlock()
        if more { worker.async { self.runNext() } }
    }

    /// Waits until everything submitted so far has run.
    func waitAll() {
        while true {
            lock.lock()
            let idle = !running
            lock.unlock()
            if idle { return }
            worker.sync {}
        }
    }
}
