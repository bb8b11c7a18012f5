import Foundation

/// A run the scheduler decided to start.
public struct RunRequest: Sendable, Equatable {
    /// Why the run starts.
    public enum Reason: String, Sendable {
        /// Its fire time came.
        case scheduled
        /// The previous attempt failed temporarily (exit 75).
        case retry
        /// Fire times passed while no scheduler ran, and the job says `missed: run_once`.
        case catchUp = "catch_up"
    }

    public let job: String
    /// 1 for the first attempt.
    public let attempt: Int
    /// The fire time this run serves.
    public let scheduledFor: Date
    public let reason: Reason
}

/// The exit code `cdsync run --lock` uses when another run of the job holds the lock.
public let lockedExitCode: Int32 = 73
/// The exit code of a temporary failure, the only one that is retried.
public let temporaryFailureExitCode: Int32 = 75

/// The scheduler's decisions, without clocks or processes: which runs are due, what a
/// finished run leads to, and when to look again.
public struct SchedulerState: Sendable {
    struct Slot: Sendable {
        let job: JobDefinition
        var nextFire: Date?
        var running: RunRequest?
        /// A retry or catch-up run waiting for its time.
        var pending: (request: RunRequest, at: Date)?
    }

    private(set) var slots: [Slot]
    /// Events decided at start-up: a `missed` event per job whose fire times passed unrun.
    public private(set) var startupEvents: [SchedulerEvent] = []

    /// The state at start-up. `lastStarts` are the jobs' latest run starts from the history;
    /// a job with `missed: run_once` whose fire time passed since then gets one run now.
    public init(jobs: [JobDefinition], now: Date, lastStarts: [String: Date]) {
        slots = jobs.map { Slot(job: $0, nextFire: $0.nextFire(after: now)) }
        for index in slots.indices {
            let job = slots[index].job
            guard let last = lastStarts[job.name], let missed = job.nextFire(after: last), missed <= now else { continue }
            startupEvents.append(SchedulerEvent("missed").with("job", job.name).with("since", missed).with("policy", job.missed.rawValue))
            if job.missed == .runOnce {
                slots[index].pending = (RunRequest(job: job.name, attempt: 1, scheduledFor: missed, reason: .catchUp), now)
            }
        }
    }

    /// Runs in progress.
    public var runningCount: Int { slots.filter { $0.running != nil }.count }

    /// The job of a name.
    public func job(named name: String) -> JobDefinition? { slots.first { $0.job.name == name }?.job }

    /// The runs to start at `now`, and `run_skipped` events for fire times that came while
    /// the job's previous run (or its retry) was still going. Fire times are advanced past `now`.
    public mutating func dueRuns(at now: Date) -> (runs: [RunRequest], events: [SchedulerEvent]) {
        var runs: [RunRequest] = []
        var events: [SchedulerEvent] = []
        for index in slots.indices {
            if slots[index].running == nil, let pending = slots[index].pending, pending.at <= now {
                slots[index].pending = nil
                slots[index].running = pending.request
                runs.append(pending.request)
            }
            guard let fire = slots[index].nextFire, fire <= now else { continue }
            slots[index].nextFire = slots[index].job.nextFire(after: now)
            if slots[index].running != nil || slots[index].pending != nil {
                events.append(SchedulerEvent("run_skipped").with("job", slots[index].job.name)
                    .with("scheduled_for", fire).with("reason", "previous_run_not_finished"))
                continue
            }
            let request = RunRequest(job: slots[index].job.name, attempt: 1, scheduledFor: fire, reason: .scheduled)
            slots[index].running = request
            runs.append(request)
        }
        return (runs, events)
    }

    /// Records a finished run. Exit 75 (and only 75) is retried while attempts remain and the
    /// scheduler is not stopping. Returns `retry_scheduled` or `gave_up` events.
    public mutating func runFinished(_ request: RunRequest, exitCode: Int32, at now: Date, stopping: Bool) -> [SchedulerEvent] {
        guard let index = slots.firstIndex(where: { $0.job.name == request.job }) else { return [] }
        slots[index].running = nil
        let retry = slots[index].job.retry
        guard exitCode == temporaryFailureExitCode, !stopping else { return [] }
        guard request.attempt < retry.attempts else {
            return retry.attempts > 1 ? [SchedulerEvent("gave_up").with("job", request.job).with("attempts", request.attempt)] : []
        }
        let delay = retry.delay(beforeAttempt: request.attempt + 1)
        let at = now.addingTimeInterval(delay)
        let next = RunRequest(job: request.job, attempt: request.attempt + 1, scheduledFor: request.scheduledFor, reason: .retry)
        slots[index].pending = (next, at)
        return [SchedulerEvent("retry_scheduled").with("job", request.job).with("attempt", next.attempt)
            .with("at", at).with("delay_seconds", Int(delay.rounded()))]
    }

    /// The earliest time something is due (a fire time or a waiting retry), nil when nothing is.
    public func nextWakeUp() -> Date? {
        slots.flatMap { slot -> [Date] in
            var times: [Date] = []
            if let fire = slot.nextFire { times.append(fire) }
            if let pending = slot.pending, slot.running == nil { times.append(pending.at) }
            return times
        }.min()
    }
}
