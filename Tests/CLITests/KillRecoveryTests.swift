import EntityModel
import EntityStore
import Foundation
import XCTest

/// A run killed with SIGKILL leaves a consistent store, advances no token, and a re-run
/// converges to the same final state as an uninterrupted run.
final class KillRecoveryTests: XCTestCase {
    private let rows = 20_000

    private func prepare(_ directory: URL) throws {
        var csv = "number,name,revenue,status\n"
        for index in 1...rows {
            csv += "K\(index),\"Name \(index), Inc.\",\(index).\(index % 100 < 10 ? "0" : "")\(index % 100),\(index % 7 == 0 ? "inactive" : "active")\n"
        }
        try csv.write(to: directory.appendingPathComponent("accounts.csv"), atomically: true, encoding: .utf8)
        try """
            for row in csv.rows("accounts.csv") do
              cds.upsert("account", { accountnumber = row.number }, {
                name = row.name, revenue = cds.decimal(row.revenue), statecode = row.status == "active" and 0 or 1 })
            end
            local n = 0
            for change in cds.changes("account", { token = "out", columns = { "accountnumber" } }) do n = n + 1 end
            print("changes", n)
            """.write(to: directory.appendingPathComponent("load.lua"), atomically: true, encoding: .utf8)
    }

    private func state(_ directory: URL) throws -> [String: String] {
        let store = try EntityStore(path: directory.appendingPathComponent("store.db").path)
        var result: [String: String] = [:]
        var cookie: String?
        repeat {
            let page = try store.runQuery(Query(entity: "account", columns: ["accountnumber", "name", "revenue", "statecode", "statuscode"],
                                                pageSize: 5000, pagingCookie: cookie))
            for record in page.records {
                let fields = ["name", "revenue", "statecode", "statuscode"].map { record[$0]?.displayText ?? "-" }
                result[record["accountnumber"]?.displayText ?? "?"] = fields.joined(separator: "|")
            }
            cookie = page.moreRecords ? page.pagingCookie : nil
        } while cookie != nil
        return result
    }

    private func maxRowVersion(_ store: EntityStore) throws -> Int64 {
        let page = try store.runQuery(Query(entity: "account", columns: ["versionnumber"], orderBy: [OrderBy("versionnumber", descending: true)], top: 1))
        if case .integer(let version)? = page.records.first?["versionnumber"] { return version }
        return 0
    }

    func test_killedRunsConvergeToTheUninterruptedState() throws {
        let reference = try temporaryDirectory()
        try prepare(reference)
        let started = Date()
        let clean = try CLIRunner.run(["run", "load.lua", "--db", "store.db", "--batch-size", "100"], in: reference)
        // kills land at fractions of what a whole run takes on this machine, so they fall mid-way
        let duration = Date().timeIntervalSince(started)
        XCTAssertEqual(clean.status, 0, clean.stderr)
        let expected = try state(reference)
        XCTAssertEqual(expected.count, rows)

        let killed = try temporaryDirectory()
        try prepare(killed)
        var killedBeforeTheEnd = 0
        for fraction in [0.15, 0.4, 0.7] {
            let process = try CLIRunner.start(["run", "load.lua", "--db", "store.db", "--batch-size", "100"], in: killed)
            Thread.sleep(forTimeInterval: duration * fraction)
            if process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                killedBeforeTheEnd += 1
            }
            process.waitUntilExit()
            let store = try EntityStore(path: killed.appendingPathComponent("store.db").path)
            if process.terminationReason == .uncaughtSignal, try store.token(named: "out") != nil {
                // killed after the script had saved its token (while the run was closing): a
                // token is saved only once every write before it is, so all of them are there
                XCTAssertEqual(try state(killed), expected, "a killed run advanced its token before its writes were all in")
            }
            XCTAssertLessThanOrEqual(try store.count("account"), rows)
            XCTAssertEqual(try store.integrityCheck(), ["ok"], "a killed run leaves a sound SQLite file")
            XCTAssertGreaterThanOrEqual(try store.currentVersion(), try maxRowVersion(store), "the version counter is never behind a row")
        }
        XCTAssertGreaterThan(killedBeforeTheEnd, 0, "at least one run must have been killed mid-way")
        let rerun = try CLIRunner.run(["run", "load.lua", "--db", "store.db", "--batch-size", "100"], in: killed)
        XCTAssertEqual(rerun.status, 0, rerun.stderr)
        XCTAssertEqual(try state(killed), expected)
        XCTAssertNotNil(try EntityStore(path: killed.appendingPathComponent("store.db").path).token(named: "out"))
    }

    func test_sigtermStopsTheRunWithExit75AndNoToken() throws {
        let directory = try temporaryDirectory()
        try prepare(directory)
        try """
            for c in cds.changes("account", { token = "never" }) do end
            cds.upsert("account", { accountnumber = "FIRST" }, { name = "sent" })
            cds.flush()
            local i = 0
            while true do i = i + 1; if i % 1000 == 0 then cds.upsert("account", { accountnumber = "L" .. i }, { name = "x" }) end end
            """.write(to: directory.appendingPathComponent("loop.lua"), atomically: true, encoding: .utf8)
        let process = try CLIRunner.start(["run", "loop.lua", "--db", "store.db", "--json", "--batch-size", "1000"], in: directory)
        defer { CLIRunner.stop(process) }
        Thread.sleep(forTimeInterval: 1.0)
        XCTAssertTrue(process.isRunning)
        kill(process.processIdentifier, SIGTERM)
        let stdout = (process.standardOutput as! Pipe).fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 75)
        XCTAssertTrue(String(decoding: stdout, as: UTF8.self).contains("\"outcome\":\"interrupted\""))
        let store = try EntityStore(path: directory.appendingPathComponent("store.db").path)
        XCTAssertNil(try store.token(named: "never"))
        XCTAssertNotNil(try store.find("FIRST"), "batches sent before the signal stay committed")
    }

    /// A run waiting for another process's write lock stops at SIGTERM (exit 75) instead of
    /// waiting out the rest of its 10 s, and writes nothing.
    func test_sigtermEndsARunWaitingForABusyStore() throws {
        let directory = try temporaryDirectory()
        let path = directory.appendingPathComponent("store.db").path
        let holder = try EntityStore(path: path)
        try #"cds.upsert("account", { accountnumber = "B1" }, { name = "x" })"#
            .write(to: directory.appendingPathComponent("one.lua"), atomically: true, encoding: .utf8)
        try holder.beginRunTransaction()
        let run = Process()
        run.executableURL = try CLIRunner.binary()
        run.arguments = ["run", "one.lua", "--db", "store.db"]
        run.currentDirectoryURL = directory
        run.standardOutput = FileHandle.nullDevice
        run.standardError = FileHandle.nullDevice
        try run.run()
        Thread.sleep(forTimeInterval: 1.5)
        XCTAssertTrue(run.isRunning, "the run should be waiting for the lock")
        let signalled = Date()
        run.terminate()
        run.waitUntilExit()
        XCTAssertLessThan(Date().timeIntervalSince(signalled), 6, "it waited out its busy timeout")
        XCTAssertEqual(run.terminationStatus, 75)
        try holder.endRunTransaction(commit: false)
        XCTAssertEqual(try holder.count("account"), 0)
    }
}

private extension EntityStore {
    func find(_ number: String) throws -> Record? {
        try? retrieve(EntityReference("account", keys: ["accountnumber": .string(number)]), columns: nil)
    }
}
