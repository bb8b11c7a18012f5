import Foundation
import XCTest

/// The example sync, scaled to a few thousand accounts, run once against the embedded store
/// and once through `cdsync serve` on loopback (`run --url`): the same data, the same change
/// feeds, and over HTTP about one request per 1,000 records.
final class RemoteEquivalenceTests: XCTestCase {
    private let extraAccounts = 2500
    private let script = CLIRunner.root.appendingPathComponent("examples/erp/sync.lua").path

    /// Every table the example writes, one JSON line per record in key order, lookups as the
    /// related records' keys (ids differ between stores; values must not).
    private let dumpScript = """
        local out = json.writer(arg[1])
        local function dump(entity, key, columns, expand)
          for row in cds.rows(entity, { select = columns, orderby = key, expand = expand }) do
            local line = { entity = entity }
            for _, column in ipairs(columns) do line[column] = row[column] ~= nil and tostring(row[column]) or nil end
            for column, related in pairs(expand or {}) do
              line[column] = row[column] and row[column][related] or nil
            end
            out:write(line)
          end
        end
        dump("systemuser", "domainname", { "domainname", "fullname" })
        dump("region", "code", { "code", "name" })
        dump("contact", "emailaddress1", { "emailaddress1", "firstname", "lastname", "address1_city" })
        dump("account", "accountnumber", { "accountnumber", "name", "revenue", "address1_city", "statecode", "statuscode" },
             { regionid = "code", ownerid = "domainname", primarycontactid = "emailaddress1" })
        out:close()
        """

    /// The example's data with `extraAccounts` more accounts.
    private func prepare(_ directory: URL) throws {
        let schema = CLIRunner.root.appendingPathComponent("examples/erp/schema.yaml").path
        for store in ["embedded.db", "served.db"] {
            let applied = try CLIRunner.run(["schema", "apply", schema, "--db", store], in: directory)
            XCTAssertEqual(applied.status, 0, applied.stderr)
        }
        let data = directory.appendingPathComponent("data")
        try FileManager.default.copyItem(at: CLIRunner.root.appendingPathComponent("examples/erp/data"), to: data)
        let regions = ["NW", "SE", "C"], owners = ["alice@contoso.test", "bob@contoso.test", "carol@contoso.test"]
        let contacts = ["ana.dvorak@fabrikam.test", "li.wei@fabrikam.test", ""]
        var text = try String(contentsOf: data.appendingPathComponent("accounts.csv"), encoding: .utf8)
        if !text.hasSuffix("\n") { text += "\n" }
        for index in 0..<extraAccounts {
            text += "BX\(100_000 + index),\"Bulk \(index), Ltd\",\(regions[index % 3]),\(owners[index % 3]),\(contacts[index % 3]),"
            text += "\(index % 7 == 0 ? "inactive" : "active"),\(index).\(index % 100),City \(index % 11)\n"
        }
        try text.write(to: data.appendingPathComponent("accounts.csv"), atomically: true, encoding: .utf8)
        try dumpScript.write(to: directory.appendingPathComponent("dump.lua"), atomically: true, encoding: .utf8)
    }

    private func summary(_ result: CLIRunner.Result) throws -> [String: Any] {
        let line = result.stdout.split(separator: "\n").last.map(String.init) ?? ""
        return try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], result.stdout + result.stderr)
    }

    /// A change feed without the record ids, which differ between the two stores.
    private func feed(_ url: URL) throws -> [String] {
        try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map {
            $0.replacingOccurrences(of: #""id":"[0-9a-f-]{36}","#, with: "", options: .regularExpression)
        }
    }

    private func startServer(_ directory: URL) throws -> (Process, String) {
        let (server, line) = try CLIRunner.startServe(in: directory)
        XCTAssertTrue(line.hasPrefix("listening on "), line)
        return (server, CLIRunner.serveRoot(line))
    }

    func test_exampleSyncGivesTheSameDataAndChangeFeedsEmbeddedAndOverHTTP() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try prepare(directory)
        let (server, root) = try startServer(directory)
        defer { if server.isRunning { server.terminate() } }
        let remote = ["--db", "local.db", "--url", root, "--token", "t0ken", "--json"]

        for (pass, feedName) in [(1, "first"), (2, "second")] {
            if pass == 2 {
                // edit three accounts between the runs: each feed then holds exactly those
                let accounts = directory.appendingPathComponent("data/accounts.csv")
                var text = try String(contentsOf: accounts, encoding: .utf8)
                for number in ["BX100001", "BX100500", "BX102499"] {
                    text = text.replacingOccurrences(of: "\(number),\"Bulk", with: "\(number),\"Renamed")
                }
                try text.write(to: accounts, atomically: true, encoding: .utf8)
            }
            let embedded = try CLIRunner.run(["run", script, "--db", "embedded.db", "--json", "--", "data", "\(feedName)-embedded.jsonl"], in: directory)
            XCTAssertEqual(embedded.status, 0, embedded.stderr)
            let overHTTP = try CLIRunner.run(["run", script] + remote + ["--", "data", "\(feedName)-http.jsonl"], in: directory)
            XCTAssertEqual(overHTTP.status, 0, overHTTP.stderr)

            let embeddedFeed = try feed(directory.appendingPathComponent("\(feedName)-embedded.jsonl"))
            XCTAssertEqual(embeddedFeed.count, pass == 1 ? 6 + extraAccounts : 3)
            XCTAssertEqual(embeddedFeed, try feed(directory.appendingPathComponent("\(feedName)-http.jsonl")))

            let embeddedSummary = try summary(embedded), httpSummary = try summary(overHTTP)
            for counter in ["rows", "created", "failed"] {
                XCTAssertEqual(embeddedSummary[counter] as? Int, httpSummary[counter] as? Int, counter)
            }
            // the catalog, a $batch per 1,000 writes, a change page and its expansion $batch
            let rows = try XCTUnwrap(httpSummary["rows"] as? Int)
            let requests = try XCTUnwrap(httpSummary["requests"] as? Int)
            XCTAssertGreaterThanOrEqual(requests, (rows + 999) / 1000, "the summary counts real HTTP requests")
            XCTAssertLessThanOrEqual(requests, (rows + 999) / 1000 + 4, overHTTP.stdout)
        }

        // a third run deletes two accounts and reads the feed: over HTTP each deletion carries
        // the deleted record's alternate key (`change.key`) exactly as embedded
        let deletions = """
            cds.delete("account", { accountnumber = "BX100002" })
            cds.delete("account", { accountnumber = "BX100777" })
            local out = json.writer(arg[1])
            for change in cds.changes("account", { token = "to-warehouse" }) do
              out:write({ op = change.deleted and "delete" or "upsert", entity = change.entity,
                          accountnumber = change.deleted and change.key and change.key.accountnumber or nil })
            end
            out:close()
            """
        try deletions.write(to: directory.appendingPathComponent("deletions.lua"), atomically: true, encoding: .utf8)
        let embeddedDeletions = try CLIRunner.run(["run", "deletions.lua", "--db", "embedded.db", "--quiet", "--", "third-embedded.jsonl"], in: directory)
        XCTAssertEqual(embeddedDeletions.status, 0, embeddedDeletions.stderr)
        let httpDeletions = try CLIRunner.run(["run", "deletions.lua"] + remote + ["--quiet", "--", "third-http.jsonl"], in: directory)
        XCTAssertEqual(httpDeletions.status, 0, httpDeletions.stderr)
        let embeddedThird = try feed(directory.appendingPathComponent("third-embedded.jsonl"))
        XCTAssertEqual(embeddedThird.count, 2)
        for number in ["BX100002", "BX100777"] {
            XCTAssertEqual(embeddedThird.filter { $0.contains(#""accountnumber":"\#(number)""#) && $0.contains(#""op":"delete""#) }.count, 1,
                           embeddedThird.joined(separator: "\n"))
        }
        XCTAssertEqual(embeddedThird, try feed(directory.appendingPathComponent("third-http.jsonl")))

        // a mirror fed by the keys a run's upserts named (cds.upserted_keys) deletes the same
        // accounts either way: here the three the script skips
        let mirror = """
            local seen = cds.upserted_keys("account", "accountnumber")
            local skipped = { BX100010 = true, BX101010 = true, BX102010 = true }
            for row in csv.rows("data/accounts.csv") do
              if not skipped[row.accountnumber] then
                cds.upsert("account", { accountnumber = row.accountnumber }, { name = row.name })
              end
            end
            local result = require("cdsync.mirror").sync("account", { key = "accountnumber", source = seen, action = "delete", max_deletes = 3 })
            print("deleted " .. result.deleted)
            """
        try mirror.write(to: directory.appendingPathComponent("mirror.lua"), atomically: true, encoding: .utf8)
        for arguments in [["--db", "embedded.db", "--quiet"], remote.filter { $0 != "--json" } + ["--quiet"]] {
            let mirrored = try CLIRunner.run(["run", "mirror.lua"] + arguments, in: directory)
            XCTAssertEqual(mirrored.status, 0, mirrored.stderr)
            XCTAssertEqual(mirrored.stdout.trimmingCharacters(in: .whitespacesAndNewlines), "deleted 3", mirrored.stdout + mirrored.stderr)
        }

        server.terminate()
        server.waitUntilExit()
        for store in ["embedded", "served"] {
            let dumped = try CLIRunner.run(["run", "dump.lua", "--db", "\(store).db", "--quiet", "--", "\(store)-data.jsonl"], in: directory)
            XCTAssertEqual(dumped.status, 0, dumped.stderr)
        }
        let embeddedData = try String(contentsOf: directory.appendingPathComponent("embedded-data.jsonl"), encoding: .utf8)
        let servedData = try String(contentsOf: directory.appendingPathComponent("served-data.jsonl"), encoding: .utf8)
        // two deleted by the third run and upserted again by the mirror's, three deleted by its mirror
        XCTAssertEqual(embeddedData.split(separator: "\n").count, 3 + 3 + 4 + 6 + extraAccounts - 2 + 2 - 3)
        XCTAssertEqual(embeddedData, servedData)
        XCTAssertTrue(servedData.contains(#""name":"Renamed 500, Ltd""#), String(servedData.prefix(2000)))
    }
}
