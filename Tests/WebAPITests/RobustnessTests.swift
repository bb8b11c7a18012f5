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
            "/api/data/v9.2/EntityDefinitions?$expand=Keys(", "/api/data/v9.2/EntityDefinitions?$expand=Keys($top=1)",
            "/api/data/v9.2/EntityDefinitions?$expand=Keys($select=)", "/api/data/v9.2/EntityDefinitions?$expand=Keys,Keys",
            "/api/data/v9.2/EntityDefinitions?$expand=Keys($select=LogicalName;$select=KeyAttributes)",
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

    /// `Expect: 100-continue` is answered with `100 Continue` before the body is sent (curl
    /// asks for bodies over 1 MiB and otherwise waits a second on each such request).
    func test_expectContinueIsAnsweredBeforeTheBody() throws {
        let body = Data(#"{"name":"continued"}"#.utf8)
        let head = "POST /api/data/v9.2/accounts HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(TestServer.token)\r\n"
            + "Content-Type: application/json\r\nContent-Length: \(body.count)\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n"
        let (interim, final) = try RawHTTP.exchange(port: server.port, head: head, body: body)
        XCTAssertTrue(interim.hasPrefix("HTTP/1.1 100 Continue\r\n"), interim)
        XCTAssertTrue((interim + final).contains("HTTP/1.1 204 No Content"), interim + final)
        let found = try server.sendRaw("GET /api/data/v9.2/accounts?$filter=name%20eq%20'continued' HTTP/1.1\r\nHost: x\r\n"
            + "Authorization: Bearer \(TestServer.token)\r\nConnection: close\r\n\r\n")
        XCTAssertTrue(found.contains("\"name\":\"continued\""), found)
    }

    /// Links in answers start with the request's `Host` only when it is a host and port: a
    /// path, user info or a quote there would make every link in the answer malformed.
    func test_linksUseTheHostHeaderOnlyWhenItIsAHostAndPort() throws {
        let own = "http://127.0.0.1:\(server.port)/api/data/v9.2/$metadata#accounts"
        let cases = [("example.test:8443", "http://example.test:8443/api/data/v9.2/$metadata#accounts"),
                     ("[::1]:8080", "http://[::1]:8080/api/data/v9.2/$metadata#accounts"),
                     ("evil.test/x?", own), ("user@evil.test", own), ("a\\\"b", own), ("x:99999", own), ("[::1", own), ("x:", own)]
        for (host, expected) in cases {
            let raw = try server.sendRaw("GET /api/data/v9.2/accounts?$top=1 HTTP/1.1\r\nHost: \(host)\r\n"
                + "Authorization: Bearer \(TestServer.token)\r\nConnection: close\r\n\r\n")
            XCTAssertTrue(raw.hasPrefix("HTTP/1.1 200"), "\(host): \(raw.prefix(200))")
            XCTAssertTrue(raw.contains("\"@odata.context\":\"\(expected.replacingOccurrences(of: "/", with: "\\/"))\"")
                          || raw.contains("\"@odata.context\":\"\(expected)\""), "\(host): \(raw)")
        }
    }

    /// Paging cookies and delta tokens come back from clients: forged ones (a count that would
    /// overflow, a watermark the store never reached, a token issued in the future) are 400 or
    /// the expired-token error, and the server keeps serving. (A forged count once crashed it.)
    func test_forgedCookiesAndTokensAreRefused() async throws {
        for name in ["A", "B", "C"] { _ = try await server.create("accounts", #"{"name":"\#(name)"}"#) }
        let delta = try await server.get("accounts?$select=name", headers: ["Prefer": "odata.track-changes"])
        XCTAssertEqual(delta.status, 200)
        let forged = ["accounts?$skiptoken=9223372036854775807:00000000-0000-0000-0000-000000000000",
                      "accounts?$skiptoken=9223372036854775807", "accounts?$skiptoken=1099511627777"]
        for path in forged {
            let result = try await server.get(path, headers: ["Prefer": "odata.maxpagesize=1"])
            XCTAssertEqual(result.status, 400, "\(path): \(result.text)")
        }
        let future = try await server.get("accounts?$deltatoken=1!11/27/9999%2000:00:00")
        XCTAssertTrue((400..<500).contains(future.status), future.text)
        try await assertStillServing()
    }

    /// A write asked to answer with its record checks `$select` and `$expand` first: answered
    /// with an error, it has written nothing (a client retrying it would write it twice).
    func test_aWriteWithBadRepresentationOptionsWritesNothing() async throws {
        let representation = ["Prefer": "return=representation"]
        for query in ["$select=nosuch", "$expand=nosuch", "$expand=name", "$expand=primarycontactid($select=nosuch)",
                      "$expand=primarycontactid($expand=x)"] {
            let created = try await server.post("accounts?\(query)", #"{"name":"repr1"}"#, headers: representation)
            XCTAssertTrue((400..<600).contains(created.status), "\(query): \(created.status)")
            let patched = try await server.send("PATCH", "accounts(accountnumber='REPR2')?\(query)", body: #"{"name":"repr2"}"#,
                                                headers: representation)
            XCTAssertTrue((400..<600).contains(patched.status), "\(query): \(patched.status)")
        }
        let left = try await server.get("accounts?$filter=name%20eq%20'repr1'%20or%20name%20eq%20'repr2'&$select=name")
        XCTAssertEqual(left.json?["value"]?.arrayValue?.count, 0, left.text)
        // the same options that are valid still answer with the record
        let good = try await server.post("accounts?$select=name", #"{"name":"repr3"}"#, headers: representation)
        XCTAssertEqual(good.status, 201, good.text)
    }

    /// A `$batch` part whose JSON holds bytes that are not UTF-8 is refused, as the same body
    /// is in a request of its own, instead of being stored with replacement characters.
    func test_aBatchWhoseTextIsNotUTF8IsRefusedAndNothingIsStored() async throws {
        let boundary = "batch_X"
        var body = Data(("--\(boundary)\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n"
            + "POST accounts HTTP/1.1\r\nContent-Type: application/json; type=entry\r\n\r\n{\"name\":\"").utf8)
        body.append(contentsOf: [0xFF, 0xFE])
        body.append(Data("\"}\r\n--\(boundary)--\r\n".utf8))
        var request = Data(("POST /api/data/v9.2/$batch HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(TestServer.token)\r\n"
            + "Content-Type: multipart/mixed; boundary=\(boundary)\r\nContent-Length: \(body.count)\r\nConnection: close\r\n\r\n").utf8)
        request.append(body)
        let raw = try RawHTTP.exchange(port: server.port, bytes: request)
        XCTAssertTrue(raw.hasPrefix("HTTP/1.1 400"), String(raw.prefix(300)))
        XCTAssertTrue(raw.contains("0x80048d19") && raw.contains("not valid UTF-8"), String(raw.prefix(600)))
        let stored = try await server.get("accounts?$select=name")
        XCTAssertEqual(stored.rows.count, 0, stored.text)
    }

    /// `PUT {set}(key)/<primary key>` cannot change a record's id: 400, not a 204 that changed nothing.
    func test_puttingThePrimaryKeyIsRefused() async throws {
        let id = try await server.create("accounts", #"{"name":"K"}"#)
        let result = try await server.send("PUT", "accounts(\(id))/accountid", body: #"{"value":"00000000-0000-0000-0000-000000000009"}"#)
        XCTAssertEqual(result.status, 400, result.text)
        let read = try await server.get("accounts(\(id))?$select=name")
        XCTAssertEqual(read.status, 200)
    }

    /// A body that cannot be read (a client sending `Transfer-Encoding: gzip`, which the server
    /// does not decode, or a body cut short) is 400, not the 413 of a body over the limit.
    func test_anUnreadableBodyIs400NotTooLarge() async throws {
        let request = "POST /api/data/v9.2/accounts HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(TestServer.token)\r\n"
            + "Content-Type: application/json\r\nTransfer-Encoding: gzip, chunked\r\nConnection: close\r\n\r\n5\r\nabcde\r\n0\r\n\r\n"
        let raw = try server.sendRaw(request)
        XCTAssertFalse(raw.hasPrefix("HTTP/1.1 413"), String(raw.prefix(300)))
        XCTAssertTrue(raw.isEmpty || raw.hasPrefix("HTTP/1.1 4"), String(raw.prefix(300)))
        try await assertStillServing()
    }

    /// A nested `$select` naming a column the target does not have is 400 whether or not the
    /// rows read point at a record (it was 200 when every lookup was empty).
    func test_aNestedSelectOfAnUnknownColumnIs400EvenWhenNoRowPointsAtARecord() async throws {
        let id = try await server.create("accounts", #"{"name":"E"}"#)
        for path in ["accounts?$expand=parentaccountid($select=nosuch)", "accounts(\(id))?$expand=parentaccountid($select=nosuch)"] {
            let result = try await server.get(path)
            XCTAssertEqual(result.status, 400, "\(path): \(result.text)")
            XCTAssertEqual(result.errorCode, "0x0", path)
        }
        let fine = try await server.get("accounts?$expand=parentaccountid($select=name)")
        XCTAssertEqual(fine.status, 200, fine.text)
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

/// Connections that stay idle are closed, so they cannot pile up until the process runs out
/// of descriptors (found with ~20,000 connections that never finished their request's head).
final class IdleConnectionTests: XCTestCase {
    func test_aConnectionThatNeverFinishesItsRequestHeadIsClosed() async throws {
        let server = try await TestServer.start(idleTimeout: 0.5)
        defer { Task { await server.stop() } }
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        XCTAssertGreaterThanOrEqual(fd, 0)
        defer { close(fd) }
        // give up reading after 10 s: without the timeout the server would never close it
        var wait = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &wait, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(server.port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        XCTAssertEqual(connected, 0)
        let partial = Array("GET /api/data/v9.2/accounts HTTP/1.1\r\nHost: x\r\n".utf8)
        _ = partial.withUnsafeBytes { send(fd, $0.baseAddress, partial.count, 0) }
        let start = Date()
        var byte: UInt8 = 0
        let count = recv(fd, &byte, 1, 0)
        XCTAssertEqual(count, 0, "the server should close the connection (recv \(count), errno \(errno))")
        XCTAssertLessThan(Date().timeIntervalSince(start), 9)
        // and it still serves
        let result = try await server.get("accounts?$top=1")
        XCTAssertEqual(result.status, 200)
    }
}
