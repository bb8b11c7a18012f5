import DataFiles
import Foundation
import XCTest

final class ServerTests: WebAPITestCase {
    func test_requestWithoutBearerTokenIs401WithAnErrorBody() async throws {
        let result = try await server.send("GET", "accounts", token: nil)
        XCTAssertEqual(result.status, 401)
        XCTAssertNotNil(result.json?["error"]?["message"]?.stringValue)
        XCTAssertEqual(result.header("WWW-Authenticate"), "Bearer")
        let wrong = try await server.send("GET", "accounts", token: "nope")
        XCTAssertEqual(wrong.status, 401)
    }

    func test_WA01_serviceDocumentListsEntitySets() async throws {
        let result = try await server.get("")
        XCTAssertEqual(result.status, 200)
        let names = result.rows.compactMap { $0["name"]?.stringValue }
        XCTAssertTrue(["accounts", "contacts", "new_widgets", "new_logs"].allSatisfy(names.contains), "\(names)")
        let accounts = result.rows.first { $0["name"]?.stringValue == "accounts" }
        XCTAssertEqual(accounts?["kind"]?.stringValue, "EntitySet")
        XCTAssertEqual(accounts?["url"]?.stringValue, "accounts")
    }
}
