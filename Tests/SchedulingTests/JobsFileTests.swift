import Foundation
import XCTest
@testable import Scheduling

final class JobsFileTests: XCTestCase {
    private func parse(_ text: String) throws -> JobsFile {
        try JobsFile.parse(text, path: "jobs.yaml", directory: "/srv/sync")
    }

    private func assertProblem(_ text: String, _ expected: String, line: UInt = #line) {
        XCTAssertThrowsError(try parse(text), line: line) { error in
            XCTAssertTrue("\(error)".contains(expected), "\(error)", line: line)
        }
    }

    func test_aFullJobWithDefaults() throws {
        let file = try parse("""
            defaults:
              time_zone: Europe/Berlin
              target: data/cdsync.db
              environment: { LANG: C.UTF-8, EXPORT_DIR: /srv/erp }
              retry: { attempts: 3, backoff: 60 }
            jobs:
              - name: erp-accounts
                script: erp/sync.lua
                schedule: "30 2 * * *"
                arguments: [data, changes.jsonl, 7]
                options: { batch_size: 500, on_error: continue, rejects: rejects.jsonl, max_memory: 256, timeout: 3600, atomic: false }
                environment: { EXPORT_DIR: /srv/erp/today }
                missed: run_once
              - name: warehouse
                script: /opt/sync/warehouse.lua
                schedule: "@hourly"
                time_zone: UTC
                target: https://crm.example.test/api/data/v9.2
            """)
        XCTAssertEqual(file.jobs.count, 2)
        let erp = file.jobs[0]
        XCTAssertEqual(erp.timeZone.identifier, "Europe/Berlin")
        XCTAssertEqual(erp.target, .file("data/cdsync.db"))
        XCTAssertEqual(erp.arguments, ["data", "changes.jsonl", "7"])
        XCTAssertEqual(erp.options.commandLineArguments,
                       ["--batch-size", "500", "--on-error", "continue", "--rejects", "rejects.jsonl", "--max-memory", "256", "--timeout", "3600"])
        XCTAssertEqual(erp.environment.map(\.name), ["EXPORT_DIR", "LANG"])
        XCTAssertEqual(erp.environment.first?.value, "/srv/erp/today", "the job's value wins over defaults")
        XCTAssertEqual(erp.retry, RetryPolicy(attempts: 3, backoff: 60, maxBackoff: 3600))
        XCTAssertEqual(erp.missed, .runOnce)
        let warehouse = file.jobs[1]
        XCTAssertEqual(warehouse.target, .url("https://crm.example.test/api/data/v9.2"))
        XCTAssertEqual(warehouse.missed, .skip)
        XCTAssertEqual(warehouse.retry.attempts, 3)
        XCTAssertEqual(file.resolve("erp/sync.lua"), "/srv/sync/erp/sync.lua")
        XCTAssertEqual(file.resolve("/opt/sync/warehouse.lua"), "/opt/sync/warehouse.lua")
    }

    func test_theZoneDefaultsToUTCAndRetriesToOneAttempt() throws {
        let job = try parse("jobs:\n  - { name: a, script: a.lua, schedule: '@daily' }\n").jobs[0]
        XCTAssertEqual(job.timeZone.secondsFromGMT(for: Date()), 0)
        XCTAssertEqual(job.retry.attempts, 1)
        XCTAssertNil(job.target)
    }

    func test_problemsNameTheJobAndTheKey() {
        assertProblem("jobs: []", "'jobs' must be a non-empty list")
        assertProblem("jobs:\n  - { script: a.lua, schedule: '@daily' }", "job 1 needs a 'name'")
        assertProblem("jobs:\n  - { name: 'a b', script: a.lua, schedule: '@daily' }", "job 1 needs a 'name'")
        assertProblem("jobs:\n  - { name: a, schedule: '@daily' }", "job 'a': 'script' is missing")
        assertProblem("jobs:\n  - { name: a, script: a.lua, schedule: '61 * * * *' }", "job 'a': schedule: 61 is outside 0-59")
        assertProblem("jobs:\n  - { name: a, script: a.lua, schedule: '0 0 30 2 *' }", "never fires")
        assertProblem("jobs:\n  - { name: a, script: a.lua, schedule: '@daily', time_zone: Mars/Olympus }", "unknown time zone 'Mars/Olympus'")
        assertProblem("jobs:\n  - { name: a, script: a.lua, schedule: '@daily', sched: x }", "unknown key 'sched'")
        assertProblem("jobs:\n  - { name: a, script: a.lua, schedule: '@daily', options: { batch_size: 5000 } }", "'batch_size' in 'options' must be a whole number from 1 to 1000")
        assertProblem("jobs:\n  - { name: a, script: a.lua, schedule: '@daily', options: { on_error: ignore } }", "'on_error' must be stop or continue")
        assertProblem("jobs:\n  - { name: a, script: a.lua, schedule: '@daily', retry: { attempts: 0 } }", "'attempts' in 'retry'")
        assertProblem("jobs:\n  - { name: a, script: a.lua, schedule: '@daily', missed: always }", "'missed' must be skip or run_once")
        assertProblem("jobs:\n  - { name: a, script: a.lua, schedule: '@daily', target: 'ftp://x/y' }", "only http:// and https://")
        assertProblem("jobs:\n  - { name: a, script: a.lua, schedule: '@daily' }\n  - { name: a, script: b.lua, schedule: '@daily' }", "job 'a': the name is used by another job")
        assertProblem("jobs:\n  - name: a\n    script: a.lua\n    schedule: */5 * * * *\n", "quote cron expressions")
        assertProblem("jobs:\n  - { name: Nightly, script: a.lua, schedule: '@daily' }\n  - { name: nightly, script: b.lua, schedule: '@daily' }",
                      "the name is used by another job (names are compared ignoring case)")
        assertProblem("jobs:\n  - { name: a, script: a.lua, schedule: '@daily', target: '' }", "target is empty")
        assertProblem("jobs:\n  - name: a\n    script: a.lua\n    schedule: '@daily'\n    script: b.lua\n", "the key 'script' is given twice")
    }
}
