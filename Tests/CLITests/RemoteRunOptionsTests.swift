import Foundation
import XCTest

/// `cdsync run --url` options for real services: the retry budget and OAuth2 client credentials.
final class RemoteRunOptionsTests: XCTestCase {
    private func serve(_ directory: URL, _ extra: [String]) throws -> (Process, String) {
        let (server, line) = try CLIRunner.startServe(in: directory, extra: extra)
        return (server, CLIRunner.serveRoot(line))
    }

    func test_throttlingPastTheRetryBudgetIsATemporaryFailure() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (server, root) = try serve(directory, ["--limit", "1/60s"])
        defer { if server.isRunning { server.terminate() } }
        try #"print(#cds.query("account", {}))"#.write(to: directory.appendingPathComponent("read.lua"), atomically: true, encoding: .utf8)
        let result = try CLIRunner.run(["run", "read.lua", "--db", "local.db", "--url", root, "--token", "t0ken", "--retry-budget", "0", "--json"],
                                       in: directory)
        XCTAssertEqual(result.status, 75, result.stdout + result.stderr)
        XCTAssertTrue(result.stdout.contains(#""outcome":"temporary_failure""#), result.stdout)
        XCTAssertTrue(result.stdout.contains(#""error_code":"store.unavailable""#), result.stdout)
        XCTAssertTrue(result.stdout.contains(#""requests":2"#), "the catalog and the refused query: \(result.stdout)")
    }

    func test_authURLNeedsAClientIDAndTheSecretFromTheEnvironment() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try "print(1)".write(to: directory.appendingPathComponent("x.lua"), atomically: true, encoding: .utf8)
        let base = ["run", "x.lua", "--url", "http://127.0.0.1:9/api/data/v9.2/", "--auth-url", "http://127.0.0.1:9/token"]
        let noClient = try CLIRunner.run(base, in: directory, environment: ["CDSYNC_CLIENT_ID": "", "CDSYNC_CLIENT_SECRET": "s"])
        XCTAssertEqual(noClient.status, 64)
        XCTAssertTrue(noClient.stderr.contains("--client-id"), noClient.stderr)
        let noSecret = try CLIRunner.run(base + ["--client-id", "app"], in: directory, environment: ["CDSYNC_CLIENT_SECRET": ""])
        XCTAssertEqual(noSecret.status, 64)
        XCTAssertTrue(noSecret.stderr.contains("CDSYNC_CLIENT_SECRET"), noSecret.stderr)
        let withoutURL = try CLIRunner.run(["run", "x.lua", "--auth-url", "http://127.0.0.1:9/token", "--client-id", "app"], in: directory)
        XCTAssertEqual(withoutURL.status, 64)
        XCTAssertTrue(withoutURL.stderr.contains("need --url"), withoutURL.stderr)
        let badBudget = try CLIRunner.run(["run", "x.lua", "--retry-budget", "100000"], in: directory)
        XCTAssertEqual(badBudget.status, 64)
        XCTAssertTrue(badBudget.stderr.contains("--retry-budget"), badBudget.stderr)
    }

    func test_anUnreachableTokenEndpointIsATemporaryFailure() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (server, root) = try serve(directory, [])
        defer { if server.isRunning { server.terminate() } }
        try #"print(#cds.query("account", {}))"#.write(to: directory.appendingPathComponent("read.lua"), atomically: true, encoding: .utf8)
        // port 9 (discard) on loopback: nothing listens there
        let result = try CLIRunner.run(["run", "read.lua", "--db", "local.db", "--url", root, "--auth-url", "http://127.0.0.1:9/token",
                                        "--client-id", "app", "--json"], in: directory, environment: ["CDSYNC_CLIENT_SECRET": "s3cret"])
        XCTAssertEqual(result.status, 75, result.stdout + result.stderr)
        XCTAssertTrue(result.stdout.contains("127.0.0.1:9/token"), result.stdout)
    }
}
