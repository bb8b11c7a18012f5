import Foundation

/// The foreground scheduler: starts each job at its times through a launcher, retries
/// temporary failures, logs every decision as a JSON line, and on `stop()` starts nothing
/// new and waits for the running runs.
public final class JobScheduler: @unchecked Sendable {
    private let clock: SchedulerClock
    private let launcher: RunLauncher
    private let log: @Sendable (String) -> Void
    private var state: SchedulerState
    private let wakeUp = WakeUpSignal()
    private let lock = NSLock()
    private var finished: [(RunRequest, RunResult)] = []
    private var stopReason: String?

    /// A scheduler over jobs; `lastStarts` (from the run history) drive `missed: run_once`.
    public init(jobs: [JobDefinition], clock: SchedulerClock, launcher: RunLauncher,
                lastStarts: [String: Date] = [:], log: @escaping @Sendable (String) -> Void) {
        self.clock = clock
        self.launcher = launcher
        self.log = log
        state = SchedulerState(jobs: jobs, now: clock.now(), lastStarts: lastStarts)
    }

    /// Asks the scheduler to stop (thread-safe, e.g. from a signal handler's queue).
    public func stop(reason: String) {
        lock.withLock { if stopReason == nil { stopReason = reason } }
        wakeUp.signal()
    }

    /// Runs until stopped and every run has ended, or until the clock passes `horizon` (tests).
    public func run(until horizon: Date? = nil) {
        emit(SchedulerEvent("scheduler_started").with("jobs", state.slots.count))
        state.startupEvents.forEach(emit)
        var interrupted = false
        while true {
            let now = clock.now()
            let (results, reason) = lock.withLock { () -> ([(RunRequest, RunResult)], String?) in
                defer { finished.removeAll() }
                return (finished, stopReason)
            }
            for (request, result) in results { record(request, result, at: now, stopping: reason != nil) }
            if let horizon, now >= horizon { break }
            if let reason {
                if !interrupted {
                    interrupted = true
                    emit(SchedulerEvent("stopping").with("reason", reason).with("running", state.runningCount))
                    launcher.interruptAll()
                }
                if state.runningCount == 0 { break }
            } else {
                startDueRuns(at: now)
            }
            var deadline = reason == nil ? state.nextWakeUp() : nil
            if let horizon { deadline = min(deadline ?? horizon, horizon) }
            clock.wait(until: deadline, wakeUp: wakeUp)
        }
        emit(SchedulerEvent("scheduler_stopped"))
    }

    private func startDueRuns(at now: Date) {
        let (runs, events) = state.dueRuns(at: now)
        events.forEach(emit)
        for request in runs {
            guard let job = state.job(named: request.job) else { continue }
            emit(SchedulerEvent("run_started").with("job", request.job).with("attempt", request.attempt)
                .with("reason", request.reason.rawValue).with("scheduled_for", request.scheduledFor))
            launcher.start(job, request: request) { [weak self] result in
                guard let self else { return }
                self.lock.withLock { self.finished.append((request, result)) }
                self.wakeUp.signal()
            }
        }
    }

    private func record(_ request: RunRequest, _ result: RunResult, at now: Date, stopping: Bool) {
        emit(SchedulerEvent("run_finished").with("job", request.job).with("attempt", request.attempt)
            .with("outcome", result.outcome).with("exit_code", Int(result.exitCode)).with("report", json: result.reportJSON))
        state.runFinished(request, exitCode: result.exitCode, at: now, stopping: stopping).forEach(emit)
    }

    private func emit(_ event: SchedulerEvent) { log(event.line(at: clock.now())) }
}
