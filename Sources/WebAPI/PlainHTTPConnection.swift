import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// HTTP/1.1 over one kept-alive TCP socket, for `http://` URLs: blocking reads and writes on
/// the caller's thread. URLSession on Linux spins while it waits for the answer to a request
/// with a body (its libcurl write source stays armed on a writable socket), which took a core
/// from a server on the same machine for the whole time a `$batch` ran (docs/webapi.md).
final class PlainHTTPConnection: @unchecked Sendable {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    private let lock = NSLock()
    private var socket: Int32 = -1
    private var endpoint = ""
    private var buffer: [UInt8] = []
    private let timeout: TimeInterval

    init(timeout: TimeInterval = 60) {
        self.timeout = timeout
    }

    deinit { if socket >= 0 { close(socket) } }

    /// Sends a request and reads the whole answer; a kept-alive socket that the server closed
    /// in between is replaced once.
    func exchange(method: String, url: URL, headers: [(String, String)], body: Data?) throws -> (Int, [(String, String)], Data) {
        guard let host = url.host else { throw Failure(description: "the URL has no host") }
        let port = url.port ?? 80
        let components = URLComponents(url: url, resolvingAgainstBaseURL: false)
        var target = components?.percentEncodedPath ?? ""
        if target.isEmpty { target = "/" }
        if let query = components?.percentEncodedQuery { target += "?" + query }
        var head = "\(method) \(target) HTTP/1.1\r\nHost: \(host):\(port)\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        if body != nil || ["POST", "PUT", "PATCH"].contains(method) { head += "Content-Length: \(body?.count ?? 0)\r\n" }
        head += "\r\n"
        var request = Array(head.utf8)
        if let body { request.append(contentsOf: body) }
        return try lock.withLock {
            let key = "\(host):\(port)"
            let reused = socket >= 0 && endpoint == key
            if !reused { try connect(host: host, port: port, key: key) }
            do {
                return try roundTrip(request, method: method)
            } catch let failure as Failure where reused {
                _ = failure
                try connect(host: host, port: port, key: key)
                return try roundTrip(request, method: method)
            }
        }
    }

    private func roundTrip(_ request: [UInt8], method: String) throws -> (Int, [(String, String)], Data) {
        do {
            try write(request)
            return try readResponse(method: method)
        } catch {
            disconnect()
            throw error
        }
    }

    private func connect(host: String, port: Int, key: String) throws {
        disconnect()
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &list)
        guard status == 0, let first = list else { throw Failure(description: "cannot resolve \(host)") }
        defer { freeaddrinfo(list) }
        var lastError = "cannot connect to \(host):\(port)"
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let info = entry {
            entry = info.pointee.ai_next
            let fd = Glibc.socket(info.pointee.ai_family, info.pointee.ai_socktype, info.pointee.ai_protocol)
            if fd < 0 { continue }
            if Glibc.connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 {
                var one: Int32 = 1
                setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
                var limit = timeval(tv_sec: Int(timeout), tv_usec: 0)
                setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
                setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
                socket = fd
                endpoint = key
                buffer = []
                return
            }
            lastError = "Could not connect to the server (\(String(cString: strerror(errno))))"
            close(fd)
        }
        throw Failure(description: lastError)
    }

    private func disconnect() {
        if socket >= 0 { close(socket) }
        socket = -1
        endpoint = ""
        buffer = []
    }

    private func write(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { Glibc.send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if sent < 0 && errno == EINTR { continue }
            guard sent > 0 else { throw Failure(description: "the connection was lost while sending") }
            offset += sent
        }
    }

    /// More bytes into the buffer; false at the end of the stream.
    private func fill() throws -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = chunk.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
            if count < 0 && errno == EINTR { continue }
            if count < 0 { throw Failure(description: errno == EAGAIN || errno == EWOULDBLOCK ? "The request timed out." : "the connection was lost") }
            if count == 0 { return false }
            buffer.append(contentsOf: chunk[..<count])
            return true
        }
    }

    /// The bytes up to (not including) CRLF, consumed with it.
    private func readLine() throws -> String {
        var searchFrom = 0
        while true {
            if buffer.count >= 2 {
                var index = max(searchFrom, 1)
                while index < buffer.count {
                    if buffer[index] == 10 && buffer[index - 1] == 13 {
                        let line = String(decoding: buffer[..<(index - 1)], as: UTF8.self)
                        buffer.removeFirst(index + 1)
                        return line
                    }
                    index += 1
                }
                searchFrom = buffer.count
            }
            guard try fill() else { throw Failure(description: "the connection was closed before the answer was complete") }
        }
    }

    private func readBytes(_ count: Int) throws -> [UInt8] {
        while buffer.count < count {
            guard try fill() else { throw Failure(description: "the connection was closed before the answer was complete") }
        }
        let bytes = Array(buffer[..<count])
        buffer.removeFirst(count)
        return bytes
    }

    private func readResponse(method: String) throws -> (Int, [(String, String)], Data) {
        var status = 0
        var headers: [(String, String)] = []
        repeat {
            let statusLine = try readLine()
            let words = statusLine.split(separator: " ", maxSplits: 2)
            guard words.count >= 2, words[0].hasPrefix("HTTP/"), let code = Int(words[1]) else {
                throw Failure(description: "the server did not answer with HTTP")
            }
            status = code
            headers = []
            while true {
                let line = try readLine()
                if line.isEmpty { break }
                guard let colon = line.firstIndex(of: ":") else { continue }
                headers.append((String(line[..<colon]), line[line.index(after: colon)...].trimmingWhitespace()))
            }
        } while (100..<200).contains(status)
        func value(_ name: String) -> String? { headers.first { $0.0.lowercased() == name }?.1 }
        var body: [UInt8] = []
        var closeAfter = value("connection")?.lowercased() == "close"
        if method == "HEAD" || status == 204 || status == 304 {
            // no body
        } else if value("transfer-encoding")?.lowercased().contains("chunked") == true {
            while true {
                let sizeLine = try readLine()
                guard let size = Int(sizeLine.split(separator: ";").first.map { String($0).trimmingWhitespace() } ?? "", radix: 16) else {
                    throw Failure(description: "a malformed chunk in the answer")
                }
                if size == 0 {
                    while try !readLine().isEmpty {}
                    break
                }
                body += try readBytes(size)
                _ = try readLine()
            }
        } else if let length = value("content-length").flatMap(Int.init) {
            body = try readBytes(length)
        } else {
            while try fill() {}
            body = buffer
            buffer = []
            closeAfter = true
        }
        if closeAfter { disconnect() }
        return (status, headers, Data(body))
    }
}
