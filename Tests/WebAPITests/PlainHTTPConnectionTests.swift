import Foundation
#if canImport(Glibc)
import Glibc
#endif
@testable import WebAPI
import XCTest

/// The client's own HTTP/1.1 connection: chunked and `Content-Length` answers, and a new
/// socket when the server closed the kept-alive one between two requests.
final class PlainHTTPConnectionTests: XCTestCase {
    /// A one-thread server on a loopback port: answers each accepted connection's first request
    /// with the next canned answer, then closes that connection.
    private func startServer(answers: [String]) throws -> (port: Int, requests: () -> [String]) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        try withUnsafeMutablePointer(to: &address) { pointer in
            try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                guard bind(fd, $0, length) == 0, listen(fd, 4) == 0, getsockname(fd, $0, &length) == 0 else {
                    throw NSError(domain: "test", code: 1)
                }
            }
        }
        let port = Int(UInt16(bigEndian: address.sin_port))
        let lock = NSLock()
        nonisolated(unsafe) var seen: [String] = []
        Thread.detachNewThread {
            for answer in answers {
                let client = accept(fd, nil, nil)
                guard client >= 0 else { return }
                var received: [UInt8] = []
                var chunk = [UInt8](repeating: 0, count: 4096)
                while !String(decoding: received, as: UTF8.self).contains("\r\n\r\n") {
                    let count = recv(client, &chunk, chunk.count, 0)
                    if count <= 0 { break }
                    received += chunk[..<count]
                }
                lock.withLock { seen.append(String(decoding: received, as: UTF8.self)) }
                _ = Array(answer.utf8).withUnsafeBytes { send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                close(client)
            }
            close(fd)
        }
        return (port, { lock.withLock { seen } })
    }

    func test_chunkedAndSizedAnswersAndReconnectAfterClose() throws {
        let server = try startServer(answers: [
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-A: 1\r\n\r\n5\r\nhello\r\n7;x=y\r\n, world\r\n0\r\n\r\n",
            "HTTP/1.1 201 Created\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok",
        ])
        let connection = PlainHTTPConnection(timeout: 10)
        let url = URL(string: "http://127.0.0.1:\(server.port)/api/data/v9.2/accounts(accountnumber='A%2F1')?$select=name")!
        let first = try connection.exchange(method: "GET", url: url, headers: [("Accept", "application/json")], body: nil)
        XCTAssertEqual(first.0, 200)
        XCTAssertEqual(String(decoding: first.2, as: UTF8.self), "hello, world")
        XCTAssertEqual(first.1.first { $0.0 == "X-A" }?.1, "1")
        // the server closed that connection; the next request opens a new one
        let second = try connection.exchange(method: "POST", url: url, headers: [], body: Data("{}".utf8))
        XCTAssertEqual(second.0, 201)
        XCTAssertEqual(String(decoding: second.2, as: UTF8.self), "ok")
        let requests = server.requests()
        XCTAssertEqual(requests.count, 2)
        XCTAssertTrue(requests[0].hasPrefix("GET /api/data/v9.2/accounts(accountnumber='A%2F1')?$select=name HTTP/1.1\r\n"), requests[0])
        XCTAssertTrue(requests[1].contains("Content-Length: 2\r\n"), requests[1])
    }

    func test_refusedConnectionThrows() {
        let connection = PlainHTTPConnection(timeout: 2)
        XCTAssertThrowsError(try connection.exchange(method: "GET", url: URL(string: "http://127.0.0.1:1/x")!, headers: [], body: nil))
    }
}
