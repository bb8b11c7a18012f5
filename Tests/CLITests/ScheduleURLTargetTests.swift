import EntityModel
import EntityStore
import Foundation
import XCTest

/// `cdsync schedule` runs a job whose target is a URL against a real `cdsync serve`.
final class ScheduleURLTargetTests: XCTestCase {
    func test_aURLTargetJobRunsThroughTheServerWithItsStateInTheJobsFilesStateStore() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (server, line) = try CLIRunner.startServe(in: directory)
        defer { if server.isRunning { server.terminate() } }
        XCTAssertFalse(line.isEmpty, "serve printed nothing")
        let root = CLIRunner.serveRoot(line)
        try """
            for c in cds.changes("account", { token = "from-server" }) do end
            cds.upsert("account", { accountnumber = "SCHED1" }, { name = "scheduled over HTTP" })
            """.write(to: directory.appendingPathComponent("sync.lua"), atomically: true, encoding: .utf8)
        try """
            jobs:
              - name: yearly
                script: sync.lua
                schedule: "@yearly"
                target: \(root)
                environment: { CDSYNC_TOKEN: t0ken }
                missed: run_once
            """.write(to: directory.appendingPathComponent("jobs.yaml"), atomically: true, encoding: .utf8)
        // A start two years ago, recorded in the state store, makes the job a missed run that starts at once.
        let state = try EntityStore(path: directory.appendingPathComponent(".cdsync-state.db").path)
        let old = try state.recordRunStart(RunHistoryEntry(job: "yearly", script: "sync.lua", pid: 1, host: "elsewhere",
                                                           startedAt: Date().addingTimeInterval(-730 * 86_400), tokensBefore: [:]))
        try state.recordRunEnd(id: old, endedAt: Date().addingTimeInterval(-730 * 86_400), outcome: "succeeded", exitCode: 0,
                               counts: RunHistoryCounts(), tokensAfter: [:], error: nil)

        let scheduler = try CLIRunner.start(["schedule", "jobs.yaml"], in: directory)
        defer { if scheduler.isRunning { scheduler.terminate() } }
        var finished: RunHistoryEntry?
        let giveUp = Date().addingTimeInterval(120) // only so a broken scheduler cannot hang the suite
        while finished == nil && scheduler.isRunning && Date() < giveUp {
            finished = try state.runHistory(job: "yearly").first { $0.id != old && $0.outcome != "running" }
            if finished == nil { Thread.sleep(forTimeInterval: 0.05) }
        }
        kill(scheduler.processIdentifier, SIGTERM)
        let log = String(decoding: (scheduler.standardOutput as! Pipe).fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        scheduler.waitUntilExit()
        XCTAssertEqual(finished?.outcome, "succeeded", log)
        XCTAssertTrue(log.contains("\"event\":\"run_finished\",\"job\":\"yearly\",\"attempt\":1,\"outcome\":\"succeeded\""), log)
        XCTAssertNotNil(try state.token(named: "from-server"), "the change token is kept in the state store")
        XCTAssertTrue(FileManager.default.fileExists(atPath: directory.appendingPathComponent(".cdsync-state.db.locks/yearly.lock").path))

        server.terminate()
        server.waitUntilExit()
        let served = try EntityStore(path: directory.appendingPathComponent("served.db").path)
        XCTAssertNotNil(try served.retrieve(EntityReference("account", keys: ["accountnumber": .string("SCHED1")]), columns: nil))
    }
}
