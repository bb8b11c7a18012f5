import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import XCTest

/// `cdsync serve` as a real process: it prints its URL, answers with a token, refuses without one.
final class ServeCommandTests: XCTestCase {
    private func send(_ method: String, _ url: URL, token: String?, body: String? = nil) async throws -> (Int, String, [AnyHashable: Any]) {
        var request = URLRequest(url: url)
        request.httpMethod = method
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        if let body {
            request.httpBody = Data(body.utf8)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        let (data, response) = try await URLSession(configuration: .ephemeral).data(for: request)
        let http = response as! HTTPURLResponse
        return (http.statusCode, String(decoding: data, as: UTF8.self), http.allHeaderFields)
    }

    func test_serveOnPortZeroPrintsItsURLAndServesTheStore() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (process, line) = try CLIRunner.startServe(in: directory)
        defer { if process.isRunning { process.terminate() } }
        XCTAssertTrue(line.hasPrefix("listening on http://127.0.0.1:"), line)
        let root = try XCTUnwrap(URL(string: CLIRunner.serveRoot(line)))
        XCTAssertNotEqual(root.port, 0)
        XCTAssertTrue(root.path.hasPrefix("/api/data/v9.2"))

        let refused = try await send("GET", root.appendingPathComponent("accounts"), token: nil)
        XCTAssertEqual(refused.0, 401)
        XCTAssertTrue(refused.1.contains("\"error\""))
        let created = try await send("POST", root.appendingPathComponent("accounts"), token: "t0ken", body: #"{"name":"From CLI","accountnumber":"CLI1"}"#)
        XCTAssertEqual(created.0, 204, created.1)
        let read = try await send("GET", URL(string: root.absoluteString + "accounts(accountnumber='CLI1')?$select=name")!, token: "t0ken")
        XCTAssertEqual(read.0, 200)
        XCTAssertTrue(read.1.contains("\"name\":\"From CLI\""), read.1)

        process.terminate()
        process.waitUntilExit()
        let store = directory.appendingPathComponent("served.db")
        XCTAssertTrue(FileManager.default.fileExists(atPath: store.path))
    }

    func test_runWithURLSyncsThroughTheServer() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (server, line) = try CLIRunner.startServe(in: directory)
        defer { if server.isRunning { server.terminate() } }
        XCTAssertFalse(line.isEmpty, "serve printed nothing")
        let root = CLIRunner.serveRoot(line)
        try """
            for i = 1, 5 do
              cds.upsert("account", { accountnumber = "R" .. i }, { name = "Remote " .. i })
            end
            local n = 0
            for change in cds.changes("account", { columns = { "name" }, token = "mirror" }) do n = n + 1 end
            print("changes " .. n)
            """.write(to: directory.appendingPathComponent("remote.lua"), atomically: true, encoding: .utf8)
        let result = try CLIRunner.run(["run", "remote.lua", "--db", "local.db", "--url", root, "--quiet"], in: directory,
                                       environment: ["CDSYNC_TOKEN": "t0ken"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.contains("changes 5"), result.stdout)
        let tokens = try CLIRunner.run(["tokens", "show", "mirror", "--db", "local.db"], in: directory)
        XCTAssertEqual(tokens.status, 0, tokens.stderr)
        let again = try CLIRunner.run(["run", "remote.lua", "--db", "local.db", "--url", root, "--quiet"], in: directory,
                                      environment: ["CDSYNC_TOKEN": "t0ken"])
        XCTAssertTrue(again.stdout.contains("changes 0"), again.stdout + again.stderr)
        let refused = try CLIRunner.run(["run", "remote.lua", "--db", "local.db", "--url", root, "--token", "wrong", "--quiet"], in: directory)
        XCTAssertNotEqual(refused.status, 0)
    }

    func test_serveRejectsABadLimit() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let result = try CLIRunner.run(["serve", "--db", "x.db", "--limit", "lots"], in: directory)
        XCTAssertEqual(result.status, 64)
        XCTAssertTrue(result.stderr.contains("--limit"), result.stderr)
    }
}
