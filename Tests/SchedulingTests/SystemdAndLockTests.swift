import Foundation
import XCTest
@testable import Scheduling

final class SystemdAndLockTests: XCTestCase {
    private func calendar(_ expression: String, _ zone: String = "Europe/Berlin") throws -> [String] {
        SystemdUnits.onCalendar(try CronExpression(expression), zone: TimeZone(identifier: zone)!)
    }

    func test_cronExpressionsBecomeCalendarExpressions() throws {
        XCTAssertEqual(try calendar("30 2 * * *"), ["*-*-* 02:30:00 Europe/Berlin"])
        XCTAssertEqual(try calendar("*/15 * * * *"), ["*-*-* *:00,15,30,45:00 Europe/Berlin"])
        XCTAssertEqual(try calendar("0 6 * * 1-5"), ["Mon,Tue,Wed,Thu,Fri *-*-* 06:00:00 Europe/Berlin"])
        XCTAssertEqual(try calendar("0 0 1 */3 *"), ["*-01,04,07,10-01 00:00:00 Europe/Berlin"])
        XCTAssertEqual(try calendar("0 9 1,15 * MON"), ["Mon *-*-* 09:00:00 Europe/Berlin", "*-*-01,15 09:00:00 Europe/Berlin"],
                       "both day fields restricted: either matches, so two expressions")
        XCTAssertEqual(try calendar("@daily", "America/New_York"), ["*-*-* 00:00:00 America/New_York"])
    }

    func test_unitsRunTheJobThroughRunLockWithItsEnvironmentAndRetries() throws {
        let file = try JobsFile.parse("""
            jobs:
              - name: erp
                script: erp/sync.lua
                schedule: "30 2 * * *"
                target: data/store.db
                arguments: [in, "out file.jsonl"]
                environment: { PRICE: "100%", PATH_HINT: "$HOME" }
                retry: { attempts: 3, backoff: 60, max_backoff: 600 }
            """, path: "jobs.yaml", directory: "/srv/sync")
        let units = try SystemdUnits.units(for: file, executable: "/usr/bin/cdsync", defaultTarget: "/srv/default.db")
        XCTAssertEqual(units.map(\.name), ["cdsync-erp.service", "cdsync-erp.timer"])
        let service = units[0].text
        XCTAssertTrue(service.contains("ExecStart=/usr/bin/cdsync run /srv/sync/erp/sync.lua --lock erp --db /srv/sync/data/store.db -- in \"out file.jsonl\"\n"), service)
        XCTAssertTrue(service.contains("Environment=PATH_HINT=$HOME\nEnvironment=PRICE=100%%\n"), service)
        XCTAssertTrue(service.contains("RestartForceExitStatus=75\nRestartSec=60\n"), service)
        XCTAssertTrue(service.contains("StartLimitBurst=3\n"), service)
        XCTAssertTrue(service.contains("WorkingDirectory=/srv/sync\n"), service)
        XCTAssertTrue(units[1].text.contains("OnCalendar=*-*-* 02:30:00 UTC\n# missed: skip\nPersistent=false\n"), units[1].text)
        // systemd before 256 refuses RestartForceExitStatus= in a oneshot service
        XCTAssertTrue(service.contains("Type=exec\n") && !service.contains("oneshot"), service)
    }

    /// A value with a line break would end its line in the unit and start another (a command
    /// of the attacker's); such values, and a relative executable, are refused. A `%` in the
    /// script's name is escaped in the description (systemd expands `%` specifiers there).
    func test_unitFilesRefuseValuesThatWouldBreakTheirLines() throws {
        func units(_ environment: String = "{ A: b }", arguments: String = "[x]", script: String = "s.lua",
                   executable: String = "/usr/bin/cdsync") throws -> [SystemdUnits.Unit] {
            let file = try JobsFile.parse("""
                jobs:
                  - { name: j, script: "\(script)", schedule: "@daily", environment: \(environment), arguments: \(arguments) }
                """, path: "jobs.yaml", directory: "/srv/sync")
            return try SystemdUnits.units(for: file, executable: executable, defaultTarget: "/srv/default.db")
        }
        XCTAssertThrowsError(try units(#"{ EVIL: "v\nExecStartPre=/bin/touch /tmp/pwned" }"#)) { error in
            XCTAssertTrue("\(error)".contains("line break"), "\(error)")
        }
        XCTAssertThrowsError(try units(arguments: #"["a\rb"]"#))
        XCTAssertThrowsError(try units(executable: "./cdsync")) { error in
            XCTAssertTrue("\(error)".contains("absolute path"), "\(error)")
        }
        XCTAssertTrue(try units(script: "100%.lua")[0].text.contains("Description=cdsync job j (100%%.lua)\n"))
        // fractional seconds are written as they are (1.5 was written as 1)
        let file = try JobsFile.parse("jobs:\n  - { name: r, script: s.lua, schedule: \"@daily\", retry: { attempts: 2, backoff: 1.5, max_backoff: 90 } }\n",
                                      path: "jobs.yaml", directory: "/srv/sync")
        let service = try SystemdUnits.units(for: file, executable: "/usr/bin/cdsync", defaultTarget: "/srv/default.db")[0].text
        XCTAssertTrue(service.contains("RestartSec=1.5\n") && service.contains("RestartMaxDelaySec=90\n"), service)
    }

    func test_aURLTargetRunsWithURLAndTheJobsFileStateStoreAndNoTokenOnTheCommandLine() throws {
        let file = try JobsFile.parse("""
            jobs:
              - name: crm
                script: crm.lua
                schedule: "@hourly"
                target: https://crm.example.test/api/data/v9.2/
                options: { batch_size: 200 }
                environment: { CDSYNC_TOKEN: s3cret }
                arguments: [full]
              - name: local
                script: local.lua
                schedule: "@daily"
            """, path: "jobs.yaml", directory: "/srv/sync")
        let crm = file.jobs[0]
        XCTAssertEqual(JobCommandLine.runArguments(for: crm, in: file, defaultTarget: "/srv/default.db", json: true),
                       ["run", "/srv/sync/crm.lua", "--lock", "crm", "--url", "https://crm.example.test/api/data/v9.2/",
                        "--db", "/srv/sync/.cdsync-state.db", "--batch-size", "200", "--json", "--quiet", "--", "full"])
        XCTAssertEqual(JobCommandLine.localStore(of: crm, in: file, defaultTarget: "/srv/default.db"), "/srv/sync/.cdsync-state.db")
        XCTAssertEqual(JobCommandLine.runArguments(for: file.jobs[1], in: file, defaultTarget: "/srv/default.db", json: false),
                       ["run", "/srv/sync/local.lua", "--lock", "local", "--db", "/srv/default.db"])
        XCTAssertEqual(JobCommandLine.localStore(of: file.jobs[1], in: file, defaultTarget: "/srv/default.db"), "/srv/default.db")

        let service = try SystemdUnits.units(for: file, executable: "/usr/bin/cdsync", defaultTarget: "/srv/default.db")[0].text
        XCTAssertTrue(service.contains("Environment=CDSYNC_TOKEN=s3cret\n"), service)
        XCTAssertTrue(service.contains("ExecStart=/usr/bin/cdsync run /srv/sync/crm.lua --lock crm --url https://crm.example.test/api/data/v9.2/ "
            + "--db /srv/sync/.cdsync-state.db --batch-size 200 -- full\n"), service)
        XCTAssertFalse(service.contains("--token"), service)
    }

    func test_aHeldLockIsRefusedAndAReleasedOneIsTaken() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("locks-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let first = try JobLock.acquire(job: "nightly", directory: directory)
        XCTAssertThrowsError(try JobLock.acquire(job: "nightly", directory: directory)) { error in
            guard case JobLock.Failure.held(let job, let holder)? = error as? JobLock.Failure else { return XCTFail("\(error)") }
            XCTAssertEqual(job, "nightly")
            XCTAssertTrue(holder.hasPrefix("pid \(getpid()) since "), holder)
        }
        XCTAssertNoThrow(try JobLock.acquire(job: "other", directory: directory).release())
        first.release()
        XCTAssertNoThrow(try JobLock.acquire(job: "nightly", directory: directory))
    }

    func test_jobNames() {
        XCTAssertTrue(JobDefinition.isValidName("erp-accounts_2.nightly"))
        for name in ["", ".hidden", "-x", "a/b", "a b", "é", String(repeating: "a", count: 65)] {
            XCTAssertFalse(JobDefinition.isValidName(name), name)
        }
    }
}
