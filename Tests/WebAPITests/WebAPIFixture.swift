import DataFiles
import EntityModel
import EntityStore
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import WebAPI
import XCTest

/// The SPEC §0 fixture on top of the starter schema (Tests/Fixtures, shared with EntityStoreTests).
let fixtureSchema = (try? String(contentsOfFile: URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("Fixtures/spec-fixture.yaml").path, encoding: .utf8)) ?? "missing: Tests/Fixtures/spec-fixture.yaml"

/// A response as the tests see it.
struct HTTPResult {
    var status: Int
    var headers: [String: String]
    var body: Data

    var text: String { String(decoding: body, as: UTF8.self) }
    var json: JSONValue? { try? JSONValue.parse(body) }
    /// `error.code` of an error body.
    var errorCode: String? { json?["error"]?["code"]?.stringValue }
    var errorMessage: String? { json?["error"]?["message"]?.stringValue }
    func header(_ name: String) -> String? { headers.first { $0.key.lowercased() == name.lowercased() }?.value }
    /// The rows of a collection body.
    var rows: [JSONValue] { json?["value"]?.arrayValue ?? [] }
}

/// A real server on a loopback port over a real SQLite store in a temporary directory.
final class TestServer: @unchecked Sendable {
    static let token = "test-token"
    let store: EntityStore
    /// `http://127.0.0.1:<port>/api/data/v9.2/`.
    let root: URL
    let port: Int
    private let task: Task<Void, Error>
    private let directory: URL
    private let session: URLSession

    private init(store: EntityStore, root: URL, task: Task<Void, Error>, directory: URL) {
        self.store = store
        self.root = root
        self.port = root.port ?? 0
        self.task = task
        self.directory = directory
        let configuration = URLSessionConfiguration.ephemeral
        configuration.requestCachePolicy = .reloadIgnoringLocalAndRemoteCacheData
        configuration.urlCache = nil
        session = URLSession(configuration: configuration)
    }

    /// Starts a server on port 0 over a fresh fixture store.
    static func start(limit: RequestLimit? = nil, maxBodyBytes: Int = 1 << 20, idleTimeout: Double = 30) async throws -> TestServer {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cdsync-webapi-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let store = try EntityStore(path: directory.appendingPathComponent("store.db").path)
        try store.applySchemaFile(fixtureSchema)
        var configuration = WebAPIServer.Configuration(host: "127.0.0.1", port: 0, tokens: [token], maxBodyBytes: maxBodyBytes, limit: limit)
        configuration.idleTimeout = idleTimeout
        let server = WebAPIServer(service: store, configuration: configuration)
        let (stream, continuation) = AsyncStream<URL>.makeStream()
        let task = Task {
            defer { continuation.finish() }
            try await server.run { url in continuation.yield(url) }
        }
        var iterator = stream.makeAsyncIterator()
        guard let root = await iterator.next() else {
            task.cancel()
            throw CocoaError(.fileReadUnknown)
        }
        return TestServer(store: store, root: root, task: task, directory: directory)
    }

    func stop() async {
        task.cancel()
        _ = try? await task.value
        try? FileManager.default.removeItem(at: directory)
    }

    /// Sends a request to a path relative to the API root (`accounts?$select=name`) or an absolute URL.
    func send(_ method: String, _ path: String, body: String? = nil, headers: [String: String] = [:],
              token: String? = TestServer.token) async throws -> HTTPResult {
        let url = path.hasPrefix("http") ? URL(string: path)! : URL(string: root.absoluteString + path)!
        var request = URLRequest(url: url)
        request.httpMethod = method
        request.setValue("application/json", forHTTPHeaderField: "Accept")
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        if let body {
            request.httpBody = Data(body.utf8)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        let (data, response) = try await session.data(for: request)
        let http = response as! HTTPURLResponse
        var fields: [String: String] = [:]
        for (name, value) in http.allHeaderFields { fields["\(name)"] = "\(value)" }
        return HTTPResult(status: http.statusCode, headers: fields, body: data)
    }

    func get(_ path: String, headers: [String: String] = [:]) async throws -> HTTPResult {
        try await send("GET", path, headers: headers)
    }

    func post(_ path: String, _ body: String, headers: [String: String] = [:]) async throws -> HTTPResult {
        try await send("POST", path, body: body, headers: headers)
    }

    func patch(_ path: String, _ body: String, headers: [String: String] = [:]) async throws -> HTTPResult {
        try await send("PATCH", path, body: body, headers: headers)
    }

    func delete(_ path: String, headers: [String: String] = [:]) async throws -> HTTPResult {
        try await send("DELETE", path, headers: headers)
    }

    /// Creates a record and returns its id (from `OData-EntityId`).
    func create(_ set: String, _ body: String, file: StaticString = #filePath, line: UInt = #line) async throws -> String {
        let result = try await post(set, body)
        XCTAssertEqual(result.status, 204, result.text, file: file, line: line)
        let location = result.header("OData-EntityId") ?? ""
        guard let open = location.lastIndex(of: "("), location.hasSuffix(")") else { return "" }
        return String(location[location.index(after: open)..<location.index(before: location.endIndex)])
    }

    /// Sends raw bytes over a new TCP connection and returns the raw response (for malformed requests).
    func sendRaw(_ bytes: String) throws -> String {
        try RawHTTP.exchange(port: port, bytes: Data(bytes.utf8))
    }
}

/// A bare TCP client for requests URLSession would refuse to send.
enum RawHTTP {
    static func exchange(port: Int, bytes: Data) throws -> String {
        let fd = try connected(port: port)
        defer { close(fd) }
        _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, bytes.count, 0) }
        return readToEnd(fd)
    }

    /// Sends a request's head, waits (at most `timeout` seconds) for an interim answer, then
    /// sends the body: what came before the body was sent, and the rest of the answer.
    static func exchange(port: Int, head: String, body: Data, timeout: Int = 2) throws -> (interim: String, final: String) {
        let fd = try connected(port: port)
        defer { close(fd) }
        var limit = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        _ = Array(head.utf8).withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
        var interim = Data()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while !String(decoding: interim, as: UTF8.self).contains("\r\n\r\n") {
            let count = recv(fd, &buffer, buffer.count, 0)
            if count <= 0 { break }  // the timeout: no interim answer
            interim.append(contentsOf: buffer[0..<count])
        }
        _ = body.withUnsafeBytes { send(fd, $0.baseAddress, body.count, 0) }
        return (String(decoding: interim, as: UTF8.self), readToEnd(fd))
    }

    private static func connected(port: Int) throws -> Int32 {
        #if canImport(Glibc)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { throw POSIXError(.EIO) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(fd)
            throw POSIXError(.ECONNREFUSED)
        }
        return fd
    }

    private static func readToEnd(_ fd: Int32) -> String {
        var response = Data()
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = recv(fd, &buffer, buffer.count, 0)
            if count <= 0 { break }
            response.append(contentsOf: buffer[0..<count])
        }
        return String(decoding: response, as: UTF8.self)
    }
}

/// A test case with a fresh server per test.
class WebAPITestCase: XCTestCase {
    var server: TestServer!

    override func setUp() async throws {
        server = try await TestServer.start()
    }

    override func tearDown() async throws {
        await server?.stop()
        server = nil
    }
}
