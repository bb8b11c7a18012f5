import Dispatch
import Foundation
import EntityModel

/// Lets consecutive write batches share one store transaction, committed after `maxRows`
/// writes, after `maxAge` seconds, or once its changes outgrow the page cache, whichever comes
/// first, and whenever the run saves tokens or ends. A bulk load then rewrites each hot index page once per group instead of once per
/// batch of 1000 (the benchmark's initial load of a million rows: 45.6 s → 32.3 s), and the
/// write lock is never held for long while the script does other work.
///
/// Everything here runs on the write worker's serial queue, like the batches themselves;
/// the script thread reads `failure` inside that queue too (the age timer runs on it).
final class GroupCommit: @unchecked Sendable {
    private let store: RunTransactionSupport
    private let worker: DispatchQueue
    private let maxRows: Int
    private let maxAge: Double
    private var isOpen = false
    private var rows = 0
    /// The open group's number (one more for each group opened; also which group a scheduled
    /// age check belongs to). A batch notes it, on the worker, after `beforeBatch`.
    private(set) var generation = 0
    /// The group whose writes were rolled back, once `failure` is set.
    private(set) var failedGeneration: Int?
    /// Set when a group could not be committed (its writes were rolled back); every later
    /// batch fails with it rather than write after the loss.
    private(set) var failure: ServiceError?

    init(store: RunTransactionSupport, worker: DispatchQueue, maxRows: Int, maxAge: Double) {
        self.store = store
        self.worker = worker
        self.maxRows = maxRows
        self.maxAge = maxAge
    }

    /// Opens a group if none is open. On the worker, before a batch.
    /// - Throws: the failure of an earlier group, or `store.unavailable` when the store cannot begin one.
    func beforeBatch() throws {
        if let failure { throw failure }
        if isOpen && !store.isRunTransactionOpen {
            // SQLite rolled the group back by itself (full disk, I/O error): nothing more may
            // be written as if it were part of it
            isOpen = false
            failedGeneration = generation
            failure = ServiceError(.storeUnavailable,
                "The store rolled back the last \(rows) writes after an error, so they were not written; run the script again (upserts make that safe).")
            throw failure!
        }
        guard !isOpen else { return }
        try store.beginRunTransaction()
        _ = store.runTransactionOutgrewCache()  // count spills of this group only
        isOpen = true
        rows = 0
        generation &+= 1
        let opened = generation
        worker.asyncAfter(deadline: .now() + maxAge) { [self] in
            if isOpen && generation == opened { commit() }
        }
    }

    /// Counts a batch's writes and commits when the group is full, or as soon as its changes
    /// outgrow the page cache (scattered deletes and updates then write pages to the log again
    /// and again, which costs more than the commits saved). On the worker.
    func afterBatch(writes: Int) {
        rows += writes
        if rows >= maxRows || store.runTransactionOutgrewCache() { commit() }
    }

    /// Commits the open group, if any. On the worker.
    func commit() {
        guard isOpen else { return }
        isOpen = false
        do {
            try store.endRunTransaction(commit: true)
            yieldToOtherWriters()
        } catch {
            let reason = (error as? ServiceError)?.message ?? "\(error)"
            failedGeneration = generation
            failure = ServiceError(.storeUnavailable,
                "The store could not commit the last \(rows) writes, so they were rolled back; run the script again (upserts make that safe). \(reason)")
        }
        rows = 0
    }

    /// When the last pause: see `yieldToOtherWriters`.
    private var lastYield = DispatchTime.now()
    /// How long the store's write lock is left free after a commit, once a second.
    static let yieldMicroseconds: useconds_t = 3_000

    /// Leaves the store's write lock free for a moment, at most once a second: the next group
    /// would otherwise begin right after this one commits, and another process waiting to
    /// write (another job, `cdsync serve`, a REPL) would wait out its busy timeout and fail.
    /// Such a writer tries again every millisecond (`EntityStore`'s busy handler), so it gets
    /// in here; this run then waits for it in turn. Costs ~0.3 % of a run that writes for long.
    private func yieldToOtherWriters() {
        let now = DispatchTime.now()
        guard now.uptimeNanoseconds - lastYield.uptimeNanoseconds >= 1_000_000_000 else { return }
        usleep(Self.yieldMicroseconds)
        lastYield = DispatchTime.now()
    }
}
