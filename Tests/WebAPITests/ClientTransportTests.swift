import EntityModel
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import WebAPI
import XCTest

/// A tiny HTTP app on a loopback port for the client's tests: an OAuth2 token endpoint and
/// a server that answers 503 a few times before it answers.
final class HelperServer: @unchecked Sendable {
    /// Requests seen, with their form bodies.
    private let lock = NSLock()
    private var seen: [(path: String, body: String)] = []
    private var task: Task<Void, Error>?
    private(set) var origin = ""

    var requests: [(path: String, body: String)] { lock.withLock { seen } }

    /// Starts an app whose `answer` gets the 0-based number of the request on its path and the body.
    static func start(_ answer: @escaping @Sendable (_ path: String, _ count: Int, _ body: String) -> (Int, [String: String], String)) async throws -> HelperServer {
        let helper = HelperServer()
        let router = Router()
        let handler: @Sendable (Request, BasicRequestContext) async throws -> Response = { request, _ in
            let body = String(buffer: try await request.body.collect(upTo: 1 << 16))
            let path = request.uri.path
            let count = helper.record(path, body)
            let (status, headers, text) = answer(path, count, body)
            var fields = HTTPFields()
            fields.append(HTTPField(name: .contentType, value: "application/json"))
            for (name, value) in headers { fields.append(HTTPField(name: HTTPField.Name(name)!, value: value)) }
            return Response(status: .init(code: status), headers: fields, body: .init(byteBuffer: ByteBuffer(string: text)))
        }
        router.post("token", use: handler)
        router.get("api/data/v9.2/EntityDefinitions", use: handler)
        let (stream, continuation) = AsyncStream<Int>.makeStream()
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                              onServerRunning: { channel in continuation.yield(channel.localAddress?.port ?? 0) },
                              logger: { var logger = Logger(label: "cdsync.test-helper"); logger.logLevel = .critical; return logger }())
        helper.task = Task { try await app.runService(gracefulShutdownSignals: []) }
        var iterator = stream.makeAsyncIterator()
        let port = await iterator.next() ?? 0
        helper.origin = "http://127.0.0.1:\(port)"
        return helper
    }

    private func record(_ path: String, _ body: String) -> Int {
        lock.withLock {
            let count = seen.filter { $0.path == path }.count
            seen.append((path, body))
            return count
        }
    }

    func stop() async {
        task?.cancel()
        _ = try? await task?.value
    }
}

/// The client's transport: retries on 429/503 out of one budget, OAuth2 client credentials,
/// and the count of HTTP requests it really sent.
final class ClientTransportTests: WebAPITestCase {
    private func grant(_ helper: HelperServer) -> WebAPICredentials {
        .clientCredentials(ClientCredentials(tokenURL: URL(string: helper.origin + "/token")!, clientID: "app-1",
                                             clientSecret: "s3cret&more", scope: "https://org.example/.default"))
    }

    func test_429IsRetriedAfterRetryAfterAndEveryRetryIsCounted() async throws {
        await server.stop()
        server = try await TestServer.start(limit: RequestLimit(requests: 2, windowSeconds: 1))
        let client = WebAPIClient(root: server.root, credentials: .bearer(TestServer.token), retryBudget: RetryBudget(totalSeconds: 30))
        let count = try await onThread { () -> Int in
            var rows = 0
            for _ in 0..<3 {
                guard case .records(let page) = try client.execute(.retrieveMultiple(Query(entity: "account"))) else { return -1 }
                rows += page.records.count
            }
            return rows
        }
        XCTAssertEqual(count, 0)
        // the catalog and three queries, at least one of them refused once and sent again
        XCTAssertGreaterThan(client.requestsSent, 4)
        XCTAssertGreaterThan(client.secondsWaitedForRetry, 0)
    }

    func test_aUsedUpRetryBudgetIsATemporaryFailure() async throws {
        await server.stop()
        server = try await TestServer.start(limit: RequestLimit(requests: 1, windowSeconds: 60))
        let client = WebAPIClient(root: server.root, credentials: .bearer(TestServer.token), retryBudget: RetryBudget(totalSeconds: 0))
        let code = try await onThread { () -> String? in
            _ = try client.entityDefinitions()
            do { _ = try client.execute(.retrieveMultiple(Query(entity: "account"))) } catch let error as ServiceError { return error.code.value }
            return nil
        }
        XCTAssertEqual(code, ErrorCode.storeUnavailable.value)
        XCTAssertEqual(client.requestsSent, 2)
    }

    func test_503IsRetriedAfterRetryAfter() async throws {
        let flaky = try await HelperServer.start { _, count, _ in
            count < 2 ? (503, ["Retry-After": "0"], #"{"error":{"code":"","message":"busy"}}"#) : (200, [:], #"{"value":[]}"#)
        }
        defer { Task { await flaky.stop() } }
        let client = WebAPIClient(root: URL(string: flaky.origin + "/api/data/v9.2/")!, credentials: .bearer("t"))
        let definitions = try await onThread { try client.entityDefinitions() }
        XCTAssertEqual(definitions.count, 0)
        XCTAssertEqual(client.requestsSent, 3)
        XCTAssertEqual(flaky.requests.count, 3)
    }

    func test_503PastTheRetriesOfOneRequestIsATemporaryFailure() async throws {
        let down = try await HelperServer.start { _, _, _ in (503, ["Retry-After": "0"], #"{"error":{"code":"","message":"down"}}"#) }
        defer { Task { await down.stop() } }
        let client = WebAPIClient(root: URL(string: down.origin + "/api/data/v9.2/")!, credentials: .bearer("t"),
                                  retryBudget: RetryBudget(totalSeconds: 10, maxRetriesPerRequest: 2))
        let code = try await onThread { () -> String? in
            do { _ = try client.entityDefinitions() } catch let error as ServiceError { return error.code.value }
            return nil
        }
        XCTAssertEqual(code, ErrorCode.storeUnavailable.value)
        XCTAssertEqual(down.requests.count, 3)
    }

    func test_clientCredentialsGrantFetchesTheTokenAndRefreshesItOnceOn401() async throws {
        let authority = try await HelperServer.start { _, count, _ in
            // the first token is one the server does not accept: the client must fetch another
            (200, [:], #"{"token_type":"Bearer","expires_in":3600,"access_token":"\#(count == 0 ? "stale" : TestServer.token)"}"#)
        }
        defer { Task { await authority.stop() } }
        let client = WebAPIClient(root: server.root, credentials: grant(authority))
        let names = try await onThread { try client.entityDefinitions().map(\.name) }
        XCTAssertTrue(names.contains("account"))
        XCTAssertEqual(authority.requests.count, 2)
        let form = authority.requests[0].body
        XCTAssertTrue(form.contains("grant_type=client_credentials"), form)
        XCTAssertTrue(form.contains("client_id=app-1"), form)
        XCTAssertTrue(form.contains("client_secret=s3cret%26more"), form)
        XCTAssertTrue(form.contains("scope=https%3A%2F%2Forg.example%2F.default"), form)
        _ = try await onThread { try client.execute(.retrieveMultiple(Query(entity: "account"))) }
        XCTAssertEqual(authority.requests.count, 2, "a valid token is reused")
        XCTAssertEqual(client.requestsSent, 5, "token, refused catalog, token, catalog, query")
    }

    func test_anExpiredTokenIsFetchedAgain() async throws {
        let authority = try await HelperServer.start { _, _, _ in
            (200, [:], #"{"token_type":"Bearer","expires_in":0,"access_token":"\#(TestServer.token)"}"#)
        }
        defer { Task { await authority.stop() } }
        let client = WebAPIClient(root: server.root, credentials: grant(authority))
        _ = try await onThread { try client.execute(.retrieveMultiple(Query(entity: "account"))) }
        XCTAssertEqual(authority.requests.count, 2, "one token for the catalog, one for the query")
    }

    func test_refusedClientCredentialsAreAnAuthenticationFailure() async throws {
        let authority = try await HelperServer.start { _, _, _ in
            (400, [:], #"{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided."}"#)
        }
        defer { Task { await authority.stop() } }
        let client = WebAPIClient(root: server.root, credentials: grant(authority))
        let error = try await onThread { () -> ServiceError? in
            do { _ = try client.entityDefinitions() } catch let error as ServiceError { return error }
            return nil
        }
        XCTAssertEqual(error?.code.value, "auth.failed")
        XCTAssertTrue(error?.message.contains("Invalid client secret") == true, error?.message ?? "")
    }
}
