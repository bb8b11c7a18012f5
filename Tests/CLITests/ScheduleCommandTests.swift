import EntityModel
import EntityStore
import Foundation
import XCTest

/// `cdsync run --lock`, `cdsync runs` and `cdsync schedule` through the real binary.
final class ScheduleCommandTests: XCTestCase {
    private func write(_ text: String, _ name: String, in directory: URL) throws {
        try text.write(to: directory.appendingPathComponent(name), atomically: true, encoding: .utf8)
    }

    /// Polls until `condition` holds (at most `seconds`); fails the test otherwise.
    private func waitUntil(_ what: String, seconds: Double = 30, _ condition: () throws -> Bool) rethrows {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try condition() { return }
            Thread.sleep(forTimeInterval: 0.05)
        }
        XCTFail("timed out waiting for \(what)")
    }

    private func history(_ directory: URL, job: String? = nil) throws -> [RunHistoryEntry] {
        try EntityStore(path: directory.appendingPathComponent("store.db").path).runHistory(job: job)
    }

    private func runsJSON(_ arguments: [String], in directory: URL) throws -> [[String: Any]] {
        let result = try CLIRunner.run(["runs", "--db", "store.db", "--json"] + arguments, in: directory)
        XCTAssertEqual(result.status, 0, result.stderr)
        return try result.stdout.split(separator: "\n").map {
            try XCTUnwrap(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
    }

    private func loopScripts(_ directory: URL) throws {
        try write("local i = 0\nwhile true do i = i + 1 end\n", "spin.lua", in: directory)
        try write("""
            for c in cds.changes("account", { token = "out" }) do end
            cds.upsert("account", { accountnumber = "A1" }, { name = "one" })
            """, "quick.lua", in: directory)
    }

    func test_aLiveRunsLockIsNeverTakenAndAKilledRunsLockIsRecovered() throws {
        let directory = try temporaryDirectory()
        try loopScripts(directory)
        let first = try CLIRunner.start(["run", "spin.lua", "--lock", "nightly", "--db", "store.db"], in: directory)
        defer { CLIRunner.stop(first) }
        let lockFile = directory.appendingPathComponent("store.db.locks/nightly.lock")
        try waitUntil("the first run to hold the lock and record its start") {
            let holder = (try? String(contentsOf: lockFile, encoding: .utf8)) ?? ""
            let recorded = try history(directory).first?.outcome == "running"
            return holder.hasPrefix("pid \(first.processIdentifier) ") && recorded
        }

        let second = try CLIRunner.run(["run", "quick.lua", "--lock", "nightly", "--db", "store.db", "--json"], in: directory)
        XCTAssertEqual(second.status, 73, second.stderr)
        XCTAssertTrue(second.stderr.contains("job 'nightly' is already running (pid \(first.processIdentifier) since "), second.stderr)
        XCTAssertTrue(second.stdout.contains("\"outcome\":\"locked\""), second.stdout)
        XCTAssertTrue(first.isRunning, "the live run keeps its lock")
        XCTAssertEqual(try history(directory).count, 1, "a refused run records no history")
        XCTAssertEqual(try CLIRunner.run(["run", "quick.lua", "--lock", "other", "--db", "store.db"], in: directory).status, 0,
                       "other jobs are not blocked")

        kill(first.processIdentifier, SIGKILL)
        first.waitUntilExit()
        let runs = try runsJSON(["--job", "nightly"], in: directory)
        XCTAssertEqual(runs.first?["outcome"] as? String, "killed", "a running row whose process is gone shows as killed")

        let third = try CLIRunner.run(["run", "quick.lua", "--lock", "nightly", "--db", "store.db"], in: directory)
        XCTAssertEqual(third.status, 0, "the lock of a SIGKILLed run is free again: " + third.stderr)
        let rows = try history(directory, job: "nightly")
        XCTAssertEqual(rows.map(\.outcome), ["succeeded", "killed"], "the locked re-run records the dead run as killed")
        XCTAssertNil(rows[1].endedAt)
        XCTAssertNil(rows[1].exitCode)
    }

    /// A killed run that its parent has not collected yet (a zombie: it still answers
    /// `kill(pid, 0)`) shows as killed, not running.
    func test_aKilledRunNotYetCollectedShowsAsKilled() throws {
        let directory = try temporaryDirectory()
        try loopScripts(directory)
        // started without Foundation's Process, which would collect it at once
        var pid: pid_t = 0
        let binary = try CLIRunner.binary().path
        let argv = [binary, "run", directory.appendingPathComponent("spin.lua").path, "--db", directory.appendingPathComponent("store.db").path]
        var cArguments = argv.map { strdup($0) } + [nil]
        defer { for argument in cArguments { free(argument) } }
        XCTAssertEqual(posix_spawn(&pid, binary, nil, nil, &cArguments, environ), 0)
        defer { var status: Int32 = 0; _ = waitpid(pid, &status, 0) }
        try waitUntil("the run to record its start") { try history(directory).first?.outcome == "running" }
        kill(pid, SIGKILL)
        try waitUntil("the run to end (as a zombie)") {
            ((try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? "").contains(") Z")
        }
        let runs = try runsJSON([], in: directory)
        XCTAssertEqual(runs.first?["outcome"] as? String, "killed")
    }

    func test_historyRecordsSuccessFailureCountsTokensAndErrors() throws {
        let directory = try temporaryDirectory()
        try loopScripts(directory)
        try write("cds.upsert('account', { accountnumber = 'B' }, { nosuch = 1 })\n", "bad.lua", in: directory)
        XCTAssertEqual(try CLIRunner.run(["run", "quick.lua", "--lock", "sync", "--db", "store.db"], in: directory).status, 0)
        XCTAssertEqual(try CLIRunner.run(["run", "quick.lua", "--lock", "sync", "--db", "store.db"], in: directory).status, 0)
        XCTAssertEqual(try CLIRunner.run(["run", "bad.lua", "--db", "store.db"], in: directory).status, 1)

        let all = try runsJSON([], in: directory)
        XCTAssertEqual(all.map { $0["job"] as? String }, ["bad.lua", "sync", "sync"], "newest first; no --lock: the script's name")
        let failed = all[0]
        XCTAssertEqual(failed["outcome"] as? String, "failed")
        XCTAssertEqual(failed["exit_code"] as? Int, 1)
        XCTAssertTrue((failed["error"] as? String)?.contains("bad.lua:1:") == true, "\(failed)")
        let second = all[1], first = all[2]
        XCTAssertEqual(first["created"] as? Int, 1)
        XCTAssertEqual(second["unchanged"] as? Int, 1)
        XCTAssertEqual(first["tokens_before"] as? [String: String], [:])
        let tokenAfterFirst = try XCTUnwrap((first["tokens_after"] as? [String: String])?["out"])
        XCTAssertEqual(second["tokens_before"] as? [String: String], ["out": tokenAfterFirst])
        XCTAssertNotNil(first["ended"] as? String)

        XCTAssertEqual(try runsJSON(["--failed"], in: directory).map { $0["job"] as? String }, ["bad.lua"])
        XCTAssertEqual(try runsJSON(["--job", "sync"], in: directory).count, 2)
        let table = try CLIRunner.run(["runs", "--db", "store.db"], in: directory)
        XCTAssertTrue(table.stdout.hasPrefix("ID  JOB"), table.stdout)
        XCTAssertTrue(table.stdout.contains("failed"), table.stdout)
    }

    func test_remoteTargetsAreRefusedByRunForNow() throws {
        let directory = try temporaryDirectory()
        try loopScripts(directory)
        let result = try CLIRunner.run(["run", "quick.lua", "--db", "https://crm.example.test/api"], in: directory)
        XCTAssertEqual(result.status, 64)
        XCTAssertTrue(result.stderr.contains("to run a script against a Web API use `cdsync run --url URL`"), result.stderr)
        XCTAssertEqual(try CLIRunner.run(["run", "quick.lua", "--lock", "../x", "--db", "store.db"], in: directory).status, 64)
    }

    func test_checkPrintsTheNextFiveRunsAndRefusesABadFile() throws {
        let directory = try temporaryDirectory()
        try loopScripts(directory)
        try write("jobs:\n  - { name: nightly, script: quick.lua, schedule: '30 2 * * *', time_zone: Europe/Berlin }\n", "jobs.yaml", in: directory)
        let check = try CLIRunner.run(["schedule", "--check", "jobs.yaml"], in: directory)
        XCTAssertEqual(check.status, 0, check.stderr)
        XCTAssertEqual(check.stdout.components(separatedBy: " 02:30 +0").count - 1, 5, check.stdout)
        XCTAssertTrue(check.stdout.contains("jobs.yaml: 1 job OK"), check.stdout)
        try write("jobs:\n  - { name: utc, script: quick.lua, schedule: '@daily' }\n", "utc.yaml", in: directory)
        let utc = try CLIRunner.run(["schedule", "--check", "utc.yaml"], in: directory)
        XCTAssertTrue(utc.stdout.contains("@daily  (UTC)"), utc.stdout)

        try write("jobs:\n  - { name: nightly, script: quick.lua, schedule: '30 25 * * *' }\n", "bad.yaml", in: directory)
        let bad = try CLIRunner.run(["schedule", "--check", "bad.yaml"], in: directory)
        XCTAssertEqual(bad.status, 64)
        XCTAssertTrue(bad.stderr.contains("bad.yaml: job 'nightly': schedule: 25 is outside 0-23 in the hour field"), bad.stderr)
        try write("jobs:\n  - { name: nightly, script: missing.lua, schedule: '@daily' }\n", "missing.yaml", in: directory)
        XCTAssertEqual(try CLIRunner.run(["schedule", "--check", "missing.yaml"], in: directory).status, 64)
        // a directory or a device is no script a scheduled run can read (they passed the check)
        for (script, reason) in [(".", "it is a directory"), ("/dev/null", "it is not a regular file")] {
            try write("jobs:\n  - { name: odd, script: '\(script)', schedule: '@daily' }\n", "odd.yaml", in: directory)
            let result = try CLIRunner.run(["schedule", "--check", "odd.yaml"], in: directory)
            XCTAssertEqual(result.status, 64, result.stdout)
            XCTAssertTrue(result.stderr.contains("job 'odd': cannot read the script") && result.stderr.contains(reason), result.stderr)
        }
        // an unreadable jobs file says why (it was "The operation could not be completed")
        for (file, reason) in [(".", "it is a directory"), ("nofile.yaml", "no such file")] {
            let result = try CLIRunner.run(["schedule", "--check", file], in: directory)
            XCTAssertEqual(result.status, 64)
            XCTAssertTrue(result.stderr.contains("\(file): cannot read the file: \(reason)"), result.stderr)
        }
    }

    func test_theExampleJobsFileIsValid() throws {
        let result = try CLIRunner.run(["schedule", "--check", "examples/erp/jobs.yaml"], in: CLIRunner.root)
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.contains("job erp-accounts\n"), result.stdout)
    }

    func test_printSystemdRunsTheJobsThroughRunLock() throws {
        let directory = try temporaryDirectory()
        try loopScripts(directory)
        try write("""
            jobs:
              - name: nightly
                script: quick.lua
                schedule: "30 2 1,15 * MON"
                time_zone: Europe/Berlin
                target: store.db
                retry: { attempts: 3, backoff: 60 }
                missed: run_once
            """, "jobs.yaml", in: directory)
        let result = try CLIRunner.run(["schedule", "--print-systemd", "jobs.yaml", "--cdsync", "/usr/local/bin/cdsync"], in: directory)
        XCTAssertEqual(result.status, 0, result.stderr)
        let root = directory.resolvingSymlinksInPath().path
        XCTAssertTrue(result.stdout.contains("ExecStart=/usr/local/bin/cdsync run \(root)/quick.lua --lock nightly --db \(root)/store.db\n"), result.stdout)
        XCTAssertTrue(result.stdout.contains("RestartForceExitStatus=75\n"), result.stdout)
        XCTAssertTrue(result.stdout.contains("OnCalendar=Mon *-*-* 02:30:00 Europe/Berlin\nOnCalendar=*-*-01,15 02:30:00 Europe/Berlin\n"), result.stdout)
        XCTAssertTrue(result.stdout.contains("Persistent=true\n"), result.stdout)
        // units may be for another machine: a binary missing here is only a warning
        XCTAssertTrue(result.stderr.contains("warning: --cdsync /usr/local/bin/cdsync does not exist on this machine"), result.stderr)
    }

    /// A `--cdsync` that cannot be started is refused when the scheduler starts (and by
    /// `--check`), not found out at each run's time.
    func test_aCdsyncBinaryThatCannotStartIsRefusedUpFront() throws {
        let directory = try temporaryDirectory()
        try loopScripts(directory)
        try write("jobs:\n  - { name: quick, script: quick.lua, schedule: \"*/5 * * * *\", target: store.db }\n", "jobs.yaml", in: directory)
        try write("#!/bin/sh\n", "notexec.sh", in: directory)
        for (binary, reason) in [("missing-binary", "does not exist"), ("notexec.sh", "is not executable"), (".", "is a directory")] {
            for mode in [[], ["--check"]] {
                let result = try CLIRunner.run(["schedule", "jobs.yaml", "--cdsync", binary] + mode, in: directory)
                XCTAssertEqual(result.status, 64, "\(binary) \(mode): \(result.stderr)")
                XCTAssertTrue(result.stderr.contains("error: --cdsync \(binary) \(reason)"), result.stderr)
            }
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory.appendingPathComponent("store.db").path), "no run was started")
    }

    func test_sigtermStopsTheSchedulerAfterItsRunStopsWithoutAdvancingTokens() throws {
        let directory = try temporaryDirectory()
        try write("""
            for c in cds.changes("account", { token = "never" }) do end
            cds.upsert("account", { accountnumber = "FIRST" }, { name = "sent" })
            cds.flush()
            local i = 0
            while true do i = i + 1; if i % 1000 == 0 then cds.upsert("account", { accountnumber = "L" .. i }, { name = "x" }) end end
            """, "loop.lua", in: directory)
        try write("""
            jobs:
              - { name: yearly, script: loop.lua, schedule: "@yearly", target: store.db, missed: run_once, retry: { attempts: 3, backoff: 1 } }
            """, "jobs.yaml", in: directory)
        // A start two years ago makes the yearly job a missed run that starts at once.
        let store = try EntityStore(path: directory.appendingPathComponent("store.db").path)
        let old = try store.recordRunStart(RunHistoryEntry(job: "yearly", script: "loop.lua", pid: 1, host: "elsewhere",
                                                           startedAt: Date().addingTimeInterval(-730 * 86_400), tokensBefore: [:]))
        try store.recordRunEnd(id: old, endedAt: Date().addingTimeInterval(-730 * 86_400), outcome: "succeeded", exitCode: 0,
                               counts: RunHistoryCounts(), tokensAfter: [:], error: nil)
        let scheduler = try CLIRunner.start(["schedule", "jobs.yaml"], in: directory)
        defer { CLIRunner.stop(scheduler) }
        try waitUntil("the catch-up run to start") { try history(directory, job: "yearly").first?.outcome == "running" }
        kill(scheduler.processIdentifier, SIGTERM)
        // a scheduler (or run) that ignored the signal fails the test instead of hanging the suite
        let deadline = Date().addingTimeInterval(60)
        while scheduler.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        if scheduler.isRunning {
            let run = try history(directory, job: "yearly").first
            if let pid = run?.pid, run?.outcome == "running" { kill(Int32(pid), SIGKILL) }
            kill(scheduler.processIdentifier, SIGKILL)
            scheduler.waitUntilExit()
            return XCTFail("the scheduler was still running 60 s after SIGTERM (its run: \(run?.outcome ?? "none"))")
        }
        let log = String(decoding: (scheduler.standardOutput as! Pipe).fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        scheduler.waitUntilExit()
        XCTAssertEqual(scheduler.terminationStatus, 0, log)
        let events = log.split(separator: "\n").compactMap { line -> String? in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["event"] as? String
        }
        XCTAssertEqual(events, ["scheduler_started", "missed", "run_started", "stopping", "run_finished", "scheduler_stopped"], log)
        XCTAssertTrue(log.contains("\"reason\":\"catch_up\""), log)
        XCTAssertTrue(log.contains("\"outcome\":\"interrupted\",\"exit_code\":75"), log)
        let rows = try history(directory, job: "yearly")
        XCTAssertEqual(rows.first?.outcome, "interrupted")
        XCTAssertEqual(rows.first?.exitCode, 75)
        XCTAssertNil(try store.token(named: "never"), "an interrupted run advances no token")
        XCTAssertNotNil(try store.retrieve(EntityReference("account", keys: ["accountnumber": .string("FIRST")]), columns: nil))
    }

    /// A run starts with its signals unblocked and at their default actions, so a wrapper
    /// given as `--cdsync` stops on the scheduler's SIGTERM (it inherited them blocked and
    /// ignored, and the scheduler waited for it to end by itself).
    func test_aWrapperGivenAsCdsyncStopsOnTheSchedulersSigterm() throws {
        let directory = try temporaryDirectory()
        try write("#!/bin/sh\necho \"$$\" > started\nexec sleep 120\n", "wrapper.sh", in: directory)
        chmod(directory.appendingPathComponent("wrapper.sh").path, 0o755)
        try write("print(1)\n", "job.lua", in: directory)
        try write("jobs:\n  - { name: wrapped, script: job.lua, schedule: \"@yearly\", target: store.db, missed: run_once }\n", "jobs.yaml", in: directory)
        let store = try EntityStore(path: directory.appendingPathComponent("store.db").path)
        let old = try store.recordRunStart(RunHistoryEntry(job: "wrapped", script: "job.lua", pid: 1, host: "elsewhere",
                                                           startedAt: Date().addingTimeInterval(-730 * 86_400), tokensBefore: [:]))
        try store.recordRunEnd(id: old, endedAt: Date().addingTimeInterval(-730 * 86_400), outcome: "succeeded", exitCode: 0,
                               counts: RunHistoryCounts(), tokensAfter: [:], error: nil)
        try store.close()
        let scheduler = try CLIRunner.start(["schedule", "jobs.yaml", "--cdsync", directory.appendingPathComponent("wrapper.sh").path], in: directory)
        defer { CLIRunner.stop(scheduler) }
        try waitUntil("the wrapper to start") { FileManager.default.fileExists(atPath: directory.appendingPathComponent("started").path) }
        let pid = pid_t(try String(contentsOf: directory.appendingPathComponent("started"), encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        XCTAssertTrue(status.contains("SigBlk:\t0000000000000000"), status)
        kill(scheduler.processIdentifier, SIGTERM)
        let deadline = Date().addingTimeInterval(30)
        while scheduler.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        XCTAssertFalse(scheduler.isRunning, "the scheduler still waited for its run 30 s after SIGTERM")
        if scheduler.isRunning { kill(pid, SIGKILL) }
    }

    /// SIGHUP (a closed terminal) stops the scheduler as SIGTERM does; it used to end it at
    /// once with exit 129, leaving its runs behind.
    func test_sighupStopsTheSchedulerLikeSigterm() throws {
        let directory = try temporaryDirectory()
        try write("jobs:\n  - { name: idle, script: idle.lua, schedule: \"@yearly\", target: s.db }\n", "jobs.yaml", in: directory)
        try write("print('never')\n", "idle.lua", in: directory)
        let scheduler = try CLIRunner.start(["schedule", "jobs.yaml"], in: directory)
        defer { CLIRunner.stop(scheduler) }
        Thread.sleep(forTimeInterval: 1)
        kill(scheduler.processIdentifier, SIGHUP)
        let deadline = Date().addingTimeInterval(20)
        while scheduler.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        XCTAssertFalse(scheduler.isRunning, "still running 20 s after SIGHUP")
        guard !scheduler.isRunning else { return }
        let log = String(decoding: (scheduler.standardOutput as! Pipe).fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertEqual(scheduler.terminationStatus, 0, log)
        XCTAssertTrue(log.contains("\"scheduler_stopped\""), log)
    }

    func test_sigtermStopsTheSchedulerPromptlyWithMoreRunsInFlightThanCores() throws {
        // each running job holds a thread while it waits for its child; the signal must still be
        // handled at once however many there are
        let directory = try temporaryDirectory()
        let jobCount = max(3, ProcessInfo.processInfo.activeProcessorCount + 1)
        try write("""
            cds.upsert("account", { accountnumber = "FIRST" }, { name = "sent" })
            cds.flush()
            local i = 0
            while true do i = i + 1 end
            """, "spin.lua", in: directory)
        try write("jobs:\n" + (0..<jobCount).map { index in
            "  - { name: j\(index), script: spin.lua, schedule: \"@yearly\", target: s\(index).db, missed: run_once }\n"
        }.joined(), "jobs.yaml", in: directory)
        let stores = try (0..<jobCount).map { index -> EntityStore in
            let store = try EntityStore(path: directory.appendingPathComponent("s\(index).db").path)
            let old = try store.recordRunStart(RunHistoryEntry(job: "j\(index)", script: "spin.lua", pid: 1, host: "elsewhere",
                                                               startedAt: Date().addingTimeInterval(-730 * 86_400), tokensBefore: [:]))
            try store.recordRunEnd(id: old, endedAt: Date().addingTimeInterval(-730 * 86_400), outcome: "succeeded", exitCode: 0,
                                   counts: RunHistoryCounts(), tokensAfter: [:], error: nil)
            return store
        }
        let scheduler = try CLIRunner.start(["schedule", "jobs.yaml"], in: directory)
        defer { CLIRunner.stop(scheduler) }
        try waitUntil("all \(jobCount) runs to start", seconds: 60) {
            try stores.enumerated().allSatisfy { index, store in try store.runHistory(job: "j\(index)").first?.outcome == "running" }
        }
        let signalled = Date()
        kill(scheduler.processIdentifier, SIGTERM)
        let deadline = signalled.addingTimeInterval(30)
        while scheduler.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        if scheduler.isRunning {
            for (index, store) in stores.enumerated() {
                if let run = try store.runHistory(job: "j\(index)").first, run.outcome == "running" { kill(run.pid, SIGKILL) }
            }
            kill(scheduler.processIdentifier, SIGKILL)
            scheduler.waitUntilExit()
            return XCTFail("the scheduler was still running 30 s after SIGTERM with \(jobCount) runs in flight")
        }
        let log = String(decoding: (scheduler.standardOutput as! Pipe).fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertEqual(scheduler.terminationStatus, 0, log)
        let interrupted = log.split(separator: "\n").filter { line in
            guard let event = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] else { return false }
            return event["event"] as? String == "run_finished" && event["outcome"] as? String == "interrupted" && event["exit_code"] as? Int == 75
        }
        XCTAssertEqual(interrupted.count, jobCount, log)
        for (index, store) in stores.enumerated() {
            XCTAssertEqual(try store.runHistory(job: "j\(index)").first?.outcome, "interrupted", "j\(index)")
        }
    }
}
