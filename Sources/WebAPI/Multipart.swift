import EntityModel
import Foundation

/// `multipart/mixed` bodies of `$batch`: LF or CRLF line endings are both read; responses use CRLF.
enum Multipart {
    /// One part: its headers (lower-cased names) and its content after the blank line.
    struct Part {
        var headers: [String: String]
        var content: String
    }

    /// The `boundary` parameter of a content type.
    static func boundary(_ contentType: String) -> String? {
        for parameter in contentType.split(separator: ";").dropFirst() {
            let pair = parameter.split(separator: "=", maxSplits: 1).map { $0.trimmingWhitespace() }
            if pair.count == 2, pair[0].lowercased() == "boundary" {
                let value = pair[1].trimmingCharacters(in: CharacterSet(charactersIn: "\""))
                return value.isEmpty ? nil : value
            }
        }
        return nil
    }

    /// Splits a body into parts.
    /// - Throws: `0x80048d19` when the closing boundary is missing.
    static func parse(_ text: String, boundary: String) throws -> [Part] {
        let opening = "--\(boundary)", closing = "--\(boundary)--"
        var parts: [Part] = []
        var current: [Substring]?
        var closed = false
        for line in lines(text) {
            let trimmed = trimmed(line)
            if trimmed == closing {
                if let current { parts.append(split(current)) }
                closed = true
                break
            }
            if trimmed == opening {
                if let current { parts.append(split(current)) }
                current = []
                continue
            }
            current?.append(line)
        }
        guard closed else {
            throw ServiceError(.payloadError, "Error identified in Payload provided by the user: the batch has no closing boundary '--\(boundary)--'.")
        }
        return parts
    }

    /// The lines of a text split on LF, a CR before the LF dropped (CRLF and LF both end a line).
    /// Works on the UTF-8 bytes: an LF never falls inside a multi-byte character.
    static func lines(_ text: String) -> [Substring] {
        let bytes = text.utf8
        var result: [Substring] = []
        var start = bytes.startIndex
        var index = start
        while index != bytes.endIndex {
            if bytes[index] == UInt8(ascii: "\n") {
                var end = index
                if end != start, bytes[bytes.index(before: end)] == UInt8(ascii: "\r") { end = bytes.index(before: end) }
                result.append(Substring(bytes[start..<end]))
                start = bytes.index(after: index)
            }
            index = bytes.index(after: index)
        }
        result.append(Substring(bytes[start..<bytes.endIndex]))
        return result
    }

    /// A line without leading and trailing whitespace (`CharacterSet.whitespaces`).
    static func trimmed(_ line: Substring) -> Substring { line.trimmedWhitespace() }

    /// Headers until the first blank line, then the content.
    static func split(_ lines: [Substring]) -> Part {
        var headers: [String: String] = [:]
        var index = 0
        while index < lines.count, !trimmed(lines[index]).isEmpty {
            let line = lines[index]
            if let colon = line.firstIndex(of: ":") {
                headers[String(trimmed(line[..<colon])).lowercased()] = String(trimmed(line[line.index(after: colon)...]))
            }
            index += 1
        }
        var content = lines.dropFirst(index + 1)
        while let last = content.last, trimmed(last).isEmpty { content.removeLast() }
        return Part(headers: headers, content: content.joined(separator: "\n"))
    }

    /// The request inside an `application/http` part: request line, headers, body.
    /// - Throws: `0x80048d19` for a part without a request line.
    static func request(_ part: Part) throws -> APIRequest {
        var lines = lines(part.content)[...]
        while let first = lines.first, trimmed(first).isEmpty { lines.removeFirst() }
        guard let requestLine = lines.first else {
            throw ServiceError(.payloadError, "Error identified in Payload provided by the user: a batch part has no request line.")
        }
        let words = requestLine.split(separator: " ").map(String.init)
        guard words.count >= 2 else {
            throw ServiceError(.payloadError, "Error identified in Payload provided by the user: '\(requestLine)' is not a request line.")
        }
        let inner = split(Array(lines.dropFirst()))
        var headers = inner.headers
        for (name, value) in part.headers where name == "content-id" { headers[name] = value }
        return APIRequest(method: words[0], target: words[1], headers: headers, body: Data(inner.content.utf8))
    }

    /// One `application/http` response part.
    static func render(_ response: APIResponse, contentID: String?) -> String {
        var text = "Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n"
        if let contentID { text += "Content-ID: \(contentID)\r\n" }
        text += "\r\nHTTP/1.1 \(response.status) \(WebAPIServer.reasonPhrase(response.status))\r\n"
        for (name, value) in response.headers { text += "\(name): \(value)\r\n" }
        text += "\r\n"
        if !response.body.isEmpty { text += String(decoding: response.body, as: UTF8.self) + "\r\n" }
        return text
    }
}

extension Multipart {
    /// The response inside an `application/http` part (its Content-ID kept as a header).
    /// - Throws: `0x80048d19` for a part without a status line.
    static func response(_ part: Part) throws -> APIResponse {
        var lines = lines(part.content)[...]
        while let first = lines.first, trimmed(first).isEmpty { lines.removeFirst() }
        let words = lines.first?.split(separator: " ") ?? []
        guard words.count >= 2, let status = Int(words[1]) else {
            throw ServiceError(.payloadError, "A batch response part has no status line.")
        }
        let inner = split(Array(lines.dropFirst()))
        var headers = inner.headers.map { ($0.key, $0.value) }
        if let contentID = part.headers["content-id"] { headers.append(("Content-ID", contentID)) }
        return APIResponse(status: status, headers: headers, body: Data(inner.content.utf8))
    }
}
