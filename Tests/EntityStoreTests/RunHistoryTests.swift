import EntityModel
import EntityStore
import Foundation
import XCTest

/// The run history table `_cdsync_runs`.
final class RunHistoryTests: XCTestCase {
    private func entry(_ job: String, _ started: Double, tokens: [String: String] = [:]) -> RunHistoryEntry {
        RunHistoryEntry(job: job, script: "\(job).lua", pid: 42, host: "h", startedAt: Date(timeIntervalSince1970: started), tokensBefore: tokens)
    }

    func test_aRunIsRecordedAtItsStartAndCompletedAtItsEnd() throws {
        let store = try EntityStore(path: nil)
        let id = try store.recordRunStart(entry("sync", 1000, tokens: ["out": "1!x"]))
        XCTAssertEqual(try store.runHistory().first?.outcome, "running")
        try store.recordRunEnd(id: id, endedAt: Date(timeIntervalSince1970: 1005), outcome: "succeeded", exitCode: 0,
                               counts: RunHistoryCounts(created: 3, updated: 2, unchanged: 1, deleted: 0, failed: 0),
                               tokensAfter: ["out": "9!y"], error: nil)
        let row = try XCTUnwrap(try store.runHistory().first)
        XCTAssertEqual(row.outcome, "succeeded")
        XCTAssertEqual(row.exitCode, 0)
        XCTAssertEqual(row.counts, RunHistoryCounts(created: 3, updated: 2, unchanged: 1))
        XCTAssertEqual(row.tokensBefore, ["out": "1!x"])
        XCTAssertEqual(row.tokensAfter, ["out": "9!y"])
        XCTAssertEqual(row.endedAt, Date(timeIntervalSince1970: 1005))
    }

    func test_aLockedRunMarksEarlierRunningRowsOfItsJobKilled() throws {
        let store = try EntityStore(path: nil)
        _ = try store.recordRunStart(entry("sync", 1000))
        _ = try store.recordRunStart(entry("other", 1001))
        let current = try store.recordRunStart(entry("sync", 2000))
        XCTAssertEqual(try store.markAbandonedRuns(job: "sync", before: current), 1)
        XCTAssertEqual(try store.runHistory().map(\.outcome), ["running", "running", "killed"])
    }

    func test_filtersAndLastStarts() throws {
        let store = try EntityStore(path: nil)
        for (job, started, outcome) in [("a", 10.0, "succeeded"), ("a", 20.0, "failed"), ("b", 30.0, "succeeded")] {
            let id = try store.recordRunStart(entry(job, started))
            try store.recordRunEnd(id: id, endedAt: Date(timeIntervalSince1970: started + 1), outcome: outcome, exitCode: outcome == "failed" ? 1 : 0,
                                   counts: RunHistoryCounts(), tokensAfter: [:], error: nil)
        }
        XCTAssertEqual(try store.runHistory(job: "a").count, 2)
        XCTAssertEqual(try store.runHistory(unsuccessfulOnly: true).map(\.job), ["a"])
        XCTAssertEqual(try store.runHistory(limit: 1).map(\.job), ["b"])
        XCTAssertEqual(try store.lastRunStarts(), ["a": Date(timeIntervalSince1970: 20), "b": Date(timeIntervalSince1970: 30)])
    }
}
