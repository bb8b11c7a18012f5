import Foundation
import XCTest
@testable import Scheduling

/// Virtual time: waiting jumps to the deadline or the next scripted event; nothing sleeps.
final class VirtualClock: SchedulerClock, @unchecked Sendable {
    private(set) var current: Date
    private var events: [(at: Date, action: () -> Void)] = []

    init(_ start: Date) { current = start }

    func now() -> Date { current }

    func schedule(after seconds: Double, _ action: @escaping () -> Void) {
        events.append((current.addingTimeInterval(seconds), action))
    }

    func wait(until deadline: Date?, wakeUp: WakeUpSignal) {
        if wakeUp.consume() { return }
        let next = events.map(\.at).min()
        guard let target = [deadline, next].compactMap({ $0 }).min() else { XCTFail("the scheduler waits forever"); return }
        current = max(current, target)
        let due = events.filter { $0.at <= current }
        events.removeAll { $0.at <= current }
        due.forEach { $0.action() }
        _ = wakeUp.consume()
    }
}

/// Finishes runs after a scripted duration with scripted exit codes (default: 0 after 60 s).
final class ScriptedLauncher: RunLauncher, @unchecked Sendable {
    let clock: VirtualClock
    var exitCodes: [String: [Int32]] = [:]
    var durations: [String: Double] = [:]
    private(set) var starts: [(job: String, attempt: Int, reason: RunRequest.Reason, at: Date)] = []
    private(set) var interrupts = 0

    init(clock: VirtualClock) { self.clock = clock }

    func start(_ job: JobDefinition, request: RunRequest, completion: @escaping @Sendable (RunResult) -> Void) {
        starts.append((job.name, request.attempt, request.reason, clock.now()))
        let code = exitCodes[job.name]?.isEmpty == false ? exitCodes[job.name]!.removeFirst() : 0
        clock.schedule(after: durations[job.name] ?? 60) { completion(RunResult(exitCode: code)) }
    }

    func interruptAll() { interrupts += 1 }
}

final class SchedulerTests: XCTestCase {
    private let start = ISO8601DateFormatter().date(from: "2026-03-28T23:50:00Z")!

    private func job(_ name: String, _ schedule: String, zone: String = "UTC", retry: RetryPolicy = RetryPolicy(),
                     missed: MissedRunPolicy = .skip) throws -> JobDefinition {
        var job = JobDefinition(name: name, script: "\(name).lua", schedule: try CronExpression(schedule), timeZone: TimeZone(identifier: zone)!)
        job.retry = retry
        job.missed = missed
        return job
    }

    private func times(_ launcher: ScriptedLauncher, _ name: String) -> [String] {
        launcher.starts.filter { $0.job == name }.map { SchedulerEvent.timestamp($0.at) }
    }

    private final class Lines: @unchecked Sendable {
        var all: [String] = []
        var events: [String] { all.compactMap { line in line.range(of: "\"event\":\"[a-z_]+\"", options: .regularExpression).map { String(line[$0].dropFirst(9).dropLast()) } } }
    }

    private func run(_ jobs: [JobDefinition], hours: Double, lastStarts: [String: Date] = [:],
                     configure: (ScriptedLauncher) -> Void = { _ in }) -> (ScriptedLauncher, Lines) {
        let clock = VirtualClock(start)
        let launcher = ScriptedLauncher(clock: clock)
        configure(launcher)
        let lines = Lines()
        let scheduler = JobScheduler(jobs: jobs, clock: clock, launcher: launcher, lastStarts: lastStarts) { lines.all.append($0) }
        scheduler.run(until: start.addingTimeInterval(hours * 3600))
        return (launcher, lines)
    }

    func test_jobsStartAtTheirFireTimesInTheirZone() throws {
        let (launcher, lines) = run([try job("quarter", "*/15 * * * *"), try job("night", "30 2 * * *", zone: "Europe/Berlin")], hours: 2)
        XCTAssertEqual(times(launcher, "quarter"), ["2026-03-29T00:00:00Z", "2026-03-29T00:15:00Z", "2026-03-29T00:30:00Z",
                                                    "2026-03-29T00:45:00Z", "2026-03-29T01:00:00Z", "2026-03-29T01:15:00Z",
                                                    "2026-03-29T01:30:00Z", "2026-03-29T01:45:00Z"])
        XCTAssertEqual(times(launcher, "night"), ["2026-03-29T01:00:00Z"], "02:30 does not exist that night: it runs at 03:00 CEST")
        XCTAssertEqual(lines.events.first, "scheduler_started")
        XCTAssertEqual(lines.events.filter { $0 == "run_finished" }.count, 9)
        XCTAssertTrue(lines.all[1].hasPrefix("{\"time\":\"2026-03-29T00:00:00Z\",\"event\":\"run_started\",\"job\":\"quarter\",\"attempt\":1,\"reason\":\"scheduled\""), lines.all[1])
    }

    func test_aFireTimeDuringALongRunIsSkippedNotOverlapped() throws {
        let (launcher, lines) = run([try job("slow", "*/15 * * * *")], hours: 1) { $0.durations["slow"] = 20 * 60 }
        XCTAssertEqual(times(launcher, "slow"), ["2026-03-29T00:00:00Z", "2026-03-29T00:30:00Z"])
        XCTAssertEqual(lines.events.filter { $0 == "run_skipped" }.count, 2)
        XCTAssertTrue(lines.all.contains { $0.contains("\"run_skipped\"") && $0.contains("\"scheduled_for\":\"2026-03-29T00:15:00Z\"") })
    }

    func test_exit75IsRetriedWithDoublingBackoffUntilAttemptsRunOut() throws {
        let policy = RetryPolicy(attempts: 3, backoff: 120, maxBackoff: 3600)
        let (launcher, lines) = run([try job("flaky", "0 * * * *", retry: policy)], hours: 0.9) {
            $0.exitCodes["flaky"] = [75, 75, 75]
            $0.durations["flaky"] = 10
        }
        XCTAssertEqual(launcher.starts.map(\.attempt), [1, 2, 3])
        XCTAssertEqual(times(launcher, "flaky"), ["2026-03-29T00:00:00Z", "2026-03-29T00:02:10Z", "2026-03-29T00:06:20Z"],
                       "waits 120 s, then 240 s, after each failed attempt ends")
        XCTAssertEqual(launcher.starts.map(\.reason), [.scheduled, .retry, .retry])
        XCTAssertEqual(lines.events.filter { $0 == "retry_scheduled" }.count, 2)
        XCTAssertEqual(lines.events.filter { $0 == "gave_up" }.count, 1)
    }

    func test_aRetryThatSucceedsEndsTheRetries() throws {
        let policy = RetryPolicy(attempts: 5, backoff: 30)
        let (launcher, _) = run([try job("flaky", "0 * * * *", retry: policy)], hours: 0.5) { $0.exitCodes["flaky"] = [75, 0] }
        XCTAssertEqual(launcher.starts.map(\.attempt), [1, 2])
    }

    func test_onlyExit75IsRetried() throws {
        let policy = RetryPolicy(attempts: 3, backoff: 30)
        for code: Int32 in [1, 64, 65, 73, 0, -9] {
            let (launcher, lines) = run([try job("once", "0 * * * *", retry: policy)], hours: 0.5) { $0.exitCodes["once"] = [code] }
            XCTAssertEqual(launcher.starts.count, 1, "exit \(code)")
            XCTAssertFalse(lines.events.contains("retry_scheduled"), "exit \(code)")
        }
    }

    func test_backoffIsCappedByMaxBackoff() {
        let policy = RetryPolicy(attempts: 10, backoff: 60, maxBackoff: 300)
        XCTAssertEqual((2...7).map { policy.delay(beforeAttempt: $0) }, [60, 120, 240, 300, 300, 300])
    }

    func test_missedRunsRunOnceAtStartUpWithRunOnce() throws {
        let lastStarts = ["catch": start.addingTimeInterval(-3 * 86_400), "skip": start.addingTimeInterval(-3 * 86_400)]
        let jobs = [try job("catch", "0 3 * * *", missed: .runOnce), try job("skip", "0 3 * * *")]
        let (launcher, lines) = run(jobs, hours: 0.2, lastStarts: lastStarts)
        XCTAssertEqual(launcher.starts.map(\.job), ["catch"], "one catch-up run, not one per missed day")
        XCTAssertEqual(launcher.starts.first?.reason, .catchUp)
        XCTAssertEqual(times(launcher, "catch"), ["2026-03-28T23:50:00Z"])
        XCTAssertEqual(lines.events.filter { $0 == "missed" }.count, 2)
    }

    func test_nothingIsMissedWithoutHistoryOrWhenTheLastRunIsRecent() throws {
        let jobs = [try job("catch", "0 3 * * *", missed: .runOnce)]
        XCTAssertTrue(run(jobs, hours: 0.1).0.starts.isEmpty)
        XCTAssertTrue(run(jobs, hours: 0.1, lastStarts: ["catch": start.addingTimeInterval(-3600)]).0.starts.isEmpty)
    }

    func test_stopInterruptsRunningRunsStartsNothingNewAndWaitsForThem() throws {
        let clock = VirtualClock(start)
        let launcher = ScriptedLauncher(clock: clock)
        launcher.durations["long"] = 600
        launcher.exitCodes["long"] = [75]
        let lines = Lines()
        let jobs = [try job("long", "*/5 * * * *", retry: RetryPolicy(attempts: 3, backoff: 10))]
        let scheduler = JobScheduler(jobs: jobs, clock: clock, launcher: launcher) { lines.all.append($0) }
        clock.schedule(after: 8 * 60) { scheduler.stop(reason: "SIGTERM") }
        scheduler.run()
        XCTAssertEqual(launcher.starts.count, 1)
        XCTAssertEqual(launcher.interrupts, 1)
        XCTAssertEqual(lines.events.suffix(3), ["stopping", "run_finished", "scheduler_stopped"],
                       "the interrupted run (exit 75) is waited for and not retried")
    }
}
