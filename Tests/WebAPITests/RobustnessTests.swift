import DataFiles
import Foundation
import WebAPI
import XCTest

/// Malformed requests get a 4xx and an error envelope, and the server keeps serving.
final class RobustnessTests: WebAPITestCase {
    private func assertStillServing(file: StaticString = #filePath, line: UInt = #line) async throws {
        let result = try await server.get("accounts?$top=1")
        XCTAssertEqual(result.status, 200, file: file, line: line)
    }

    func test_malformedTargetsAnswer4xxWithAnErrorBody() async throws {
        let targets = [
            "/api/data/v9.2/accounts(", "/api/data/v9.2/accounts()", "/api/data/v9.2/accounts('x)",
            "/api/data/v9.2/accounts(accountnumber=)", "/api/data/v9.2/accounts(%zz)", "/api/data/v9.2/accounts?$filter=%zz",
            "/api/data/v9.2/accounts?$filter=name%20eq", "/api/data/v9.2/accounts?$filter=((", "/api/data/v9.2/accounts?$top=-1",
            "/api/data/v9.2/accounts?$top=abc", "/api/data/v9.2/accounts?$select=name&$select=name",
            "/api/data/v9.2/accounts?$orderby=name%20sideways", "/api/data/v9.2/accounts?$skiptoken=abc",
            "/api/data/v9.2/accounts?$count=maybe", "/api/data/v9.2/accounts//x", "/api/data/v9.2/accounts(1,2,3)/a/b/c",
            "/api/data/v9.2/accounts(accountnumber='a',accountnumber='b')", "/api/data/v9.2/nosuch", "/other",
            "/api/data/v9.2/accounts/$count/x", "/api/data/v9.2/accounts?$deltatoken=1!", "/api/data/v9.2/accounts?$format=json",
            "/api/data/v9.2/EntityDefinitions(LogicalName=1)", "/api/data/v9.2/EntityDefinitions?$expand=Nope",
            "/api/data/v9.2/accounts(\(String(repeating: "9", count: 500)))",
        ]
        for target in targets {
            let raw = try server.sendRaw("GET \(target) HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(TestServer.token)\r\nConnection: close\r\n\r\n")
            let statusCode = Int(raw.split(separator: " ").dropFirst().first ?? "") ?? 0
            XCTAssertTrue((400..<500).contains(statusCode), "\(target) answered \(raw.prefix(200))")
            XCTAssertTrue(raw.contains("{\"error\":{\"code\":"), "\(target): \(raw)")
        }
        try await assertStillServing()
    }

    func test_malformedBodiesAnswer400() async throws {
        let bodies = ["", "{", "[]", "null", "\"text\"", "{\"name\":", "{\"name\":[1]}", "{\"name\":{\"a\":1}}",
                      "{\"name\":\"x\",\"revenue\":\"abc\"}", "{\"name\":1e999999}", "{\"name\":\"x\",\"nosuch\":1}",
                      "{\"primarycontactid@odata.bind\":5}", "{\"primarycontactid@odata.bind\":\"/nosuch(1)\"}",
                      "{\"primarycontactid@odata.bind\":\"garbage\"}", "\u{0}\u{1}\u{2}", String(repeating: "[", count: 5000)]
        for body in bodies {
            let result = try await server.post("accounts", body)
            XCTAssertTrue((400..<500).contains(result.status), "\(body.prefix(40)) answered \(result.status) \(result.text)")
            XCTAssertNotNil(result.json?["error"]?["message"], body)
        }
        try await assertStillServing()
    }

    func test_methodsAResourceDoesNotSupportAre405() async throws {
        let id = try await server.create("accounts", #"{"name":"A"}"#)
        for (method, path) in [("PUT", "accounts"), ("PATCH", "accounts"), ("POST", "accounts(\(id))"), ("PUT", "accounts(\(id))"),
                               ("DELETE", ""), ("POST", "EntityDefinitions")] {
            let result = try await server.send(method, path, body: method == "DELETE" ? nil : "{}")
            XCTAssertEqual(result.status, 405, "\(method) \(path): \(result.text)")
        }
        try await assertStillServing()
    }

    func test_randomBytesAsRequestsNeverStopTheServer() async throws {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<30 {
            let length = Int.random(in: 1...300, using: &generator)
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            _ = try? RawHTTP.exchange(port: server.port, bytes: Data(bytes))
            let target = "/api/data/v9.2/accounts(" + String((0..<20).map { _ in "()'=,%/ab1".randomElement(using: &generator)! })
            _ = try? server.sendRaw("GET \(target) HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(TestServer.token)\r\nConnection: close\r\n\r\n")
        }
        try await assertStillServing()
    }

    func test_bodyOverTheLimitIs413() async throws {
        let small = try await TestServer.start(maxBodyBytes: 100)
        let result = try await small.post("accounts", "{\"name\":\"\(String(repeating: "x", count: 200))\"}")
        XCTAssertEqual(result.status, 413)
        XCTAssertNotNil(result.errorMessage)
        let fine = try await small.post("accounts", #"{"name":"x"}"#)
        XCTAssertEqual(fine.status, 204)
        await small.stop()
    }

    func test_urlOver32KBIs414() async throws {
        let result = try await server.get("accounts?$filter=name%20eq%20'\(String(repeating: "a", count: 33_000))'")
        XCTAssertEqual(result.status, 414)
        try await assertStillServing()
    }

    func test_WA16_throttleAnswers429WithRetryAfter() async throws {
        let limited = try await TestServer.start(limit: RequestLimit(requests: 3, windowSeconds: 300))
        for _ in 1...3 {
            let result = try await limited.get("accounts")
            XCTAssertEqual(result.status, 200)
        }
        let fourth = try await limited.get("accounts")
        XCTAssertEqual(fourth.status, 429)
        XCTAssertEqual(fourth.errorCode, "0x80072322")
        let retryAfter = Int(fourth.header("Retry-After") ?? "") ?? 0
        XCTAssertGreaterThan(retryAfter, 0)
        await limited.stop()
    }

    func test_requestLimitParsesItsForms() {
        XCTAssertEqual(RequestLimit("6000/300"), RequestLimit(requests: 6000, windowSeconds: 300))
        XCTAssertEqual(RequestLimit("3/10s"), RequestLimit(requests: 3, windowSeconds: 10))
        XCTAssertEqual(RequestLimit("100/5m"), RequestLimit(requests: 100, windowSeconds: 300))
        XCTAssertNil(RequestLimit("0/10"))
        XCTAssertNil(RequestLimit("ten/10"))
        XCTAssertNil(RequestLimit("10"))
    }
}
