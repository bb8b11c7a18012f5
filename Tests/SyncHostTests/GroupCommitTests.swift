import EntityModel
import EntityStore
import Foundation
import SyncHost
import XCTest

/// Batches that share a store transaction: everything is committed by the end of the run,
/// before tokens are saved, and a paused script does not keep its writes (or the lock) to itself.
final class GroupCommitTests: XCTestCase {
    private func fileStore() throws -> (EntityStore, String) {
        let path = try temporaryDirectory().appendingPathComponent("store.db").path
        return (try EntityStore(path: path), path)
    }

    func test_groupedBatchesAreAllCommittedByTheEndOfTheRunWithTheToken() throws {
        let (store, path) = try fileStore()
        var options = RunOptions()
        options.groupCommitRows = 2500
        options.groupCommitSeconds = 60
        try runScript("""
            for i = 1, 6000 do cds.upsert("account", { accountnumber = "G" .. i }, { name = "n" .. i }) end
            for c in cds.changes("account", { token = "grouped" }) do end
            for i = 6001, 6500 do cds.upsert("account", { accountnumber = "G" .. i }, { name = "n" .. i }) end
            """, store: store, options: options)
        // another connection sees what was committed, not the writer's open transaction
        let reader = try EntityStore(path: path)
        XCTAssertEqual(try reader.count("account"), 6500)
        XCTAssertNotNil(try reader.token(named: "grouped"))
    }

    func test_aFailedRunKeepsTheWritesSentBeforeItsFailure() throws {
        let (store, path) = try fileStore()
        var options = RunOptions()
        options.groupCommitRows = 100_000
        options.groupCommitSeconds = 60
        let report = try runScript("""
            for i = 1, 3000 do cds.upsert("account", { accountnumber = "F" .. i }, { name = "n" }) end
            cds.flush()
            error("the script fails after its writes were sent")
            """, store: store, options: options, expectSuccess: false)
        XCTAssertEqual(report.outcome, .failed)
        XCTAssertEqual(try EntityStore(path: path).count("account"), 3000)
    }

    func test_aScriptThatPausesCommitsItsGroupAfterTheMaximumAge() throws {
        let (store, path) = try fileStore()
        // opened (and written to) before the run: afterwards it only reads, which never waits in WAL mode
        let reader = try EntityStore(path: path)
        var options = RunOptions()
        options.groupCommitRows = 100_000
        options.groupCommitSeconds = 0.2
        let finished = expectation(description: "run finished")
        let runOptions = options
        DispatchQueue.global().async {
            _ = try? runScript("""
                for i = 1, 10 do cds.upsert("account", { accountnumber = "P" .. i }, { name = "n" }) end
                cds.flush()
                local start = os.clock()
                while os.clock() - start < 6 do end  -- a long computation after the writes
                """, store: store, options: runOptions)
            finished.fulfill()
        }
        // the computation outlasts this wait, so only the age timer can have committed
        var seen = 0
        let deadline = Date().addingTimeInterval(4)
        while seen < 10 && Date() < deadline {
            Thread.sleep(forTimeInterval: 0.1)
            seen = try reader.count("account")
        }
        XCTAssertEqual(seen, 10, "the group was committed while the script computed")
        wait(for: [finished], timeout: 60)
    }
}
