import DataFiles
import EntityModel
import Foundation

/// One HTTP request as the Web API layer sees it, free of the server framework
/// (a `$batch` part is one too).
public struct APIRequest: Sendable {
    /// The method, upper case (`GET`).
    public var method: String
    /// The raw request target: path and query, still percent-encoded.
    public var target: String
    /// Header values by lower-cased name.
    public var headers: [String: String]
    /// The body bytes.
    public var body: Data

    /// Creates a request.
    public init(method: String, target: String, headers: [String: String] = [:], body: Data = Data()) {
        self.method = method.uppercased()
        self.target = target
        self.headers = Dictionary(headers.map { ($0.key.lowercased(), $0.value) }, uniquingKeysWith: { first, second in "\(first), \(second)" })
        self.body = body
    }

    /// A header's value, by case-insensitive name.
    public func header(_ name: String) -> String? { headers[name.lowercased()] }

    /// The preferences of the `Prefer` header (`return=representation`, `odata.maxpagesize=2`, …).
    var preferences: Preferences { Preferences(header("prefer")) }
}

/// One HTTP response of the Web API layer.
public struct APIResponse: Sendable {
    /// The status code.
    public var status: Int
    /// Headers in order.
    public var headers: [(String, String)]
    /// The body bytes.
    public var body: Data

    /// Creates a response.
    public init(status: Int, headers: [(String, String)] = [], body: Data = Data()) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// The value of the first header with that name (case-insensitive).
    public func header(_ name: String) -> String? {
        headers.first { $0.0.lowercased() == name.lowercased() }?.1
    }

    /// A JSON response with `OData-Version` and the minimal-metadata content type.
    static func json(_ status: Int, _ value: JSONValue, headers: [(String, String)] = []) -> APIResponse {
        let body = (try? value.serializedData()) ?? Data("{}".utf8)
        return APIResponse(status: status,
                           headers: [("Content-Type", "application/json; odata.metadata=minimal"), ("OData-Version", "4.0")] + headers,
                           body: body)
    }

    /// A plain-text response (`$count`, `$value`).
    static func text(_ status: Int, _ text: String) -> APIResponse {
        APIResponse(status: status, headers: [("Content-Type", "text/plain"), ("OData-Version", "4.0")], body: Data(text.utf8))
    }

    /// `204 No Content` with extra headers.
    static func noContent(_ headers: [(String, String)] = []) -> APIResponse {
        APIResponse(status: 204, headers: [("OData-Version", "4.0")] + headers)
    }

    /// The Dataverse error envelope `{"error":{"code":…,"message":…}}` for a service error.
    static func error(_ error: ServiceError, headers: [(String, String)] = []) -> APIResponse {
        let body: JSONValue = .object([("error", .object([("code", .string(WireCode.of(error.code))), ("message", .string(error.message))]))])
        return json(error.code.httpStatus, body, headers: headers)
    }
}

/// The `Prefer` header's preferences.
struct Preferences {
    /// Names to values (`return` → `representation`; flags map to "").
    let values: [String: String]

    init(_ header: String?) {
        var values: [String: String] = [:]
        var parts: [String] = []
        var current = ""
        var quoted = false
        for char in header ?? "" {
            if char == "\"" { quoted.toggle() }
            if char == "," && !quoted { parts.append(current); current = "" } else { current.append(char) }
        }
        parts.append(current)
        for part in parts {
            let pair = part.split(separator: "=", maxSplits: 1).map { $0.trimmingWhitespace() }
            guard let name = pair.first, !name.isEmpty else { continue }
            values[name.lowercased()] = pair.count > 1 ? pair[1].trimmingCharacters(in: CharacterSet(charactersIn: "\"")) : ""
        }
        self.values = values
    }

    var returnRepresentation: Bool { values["return"] == "representation" }
    var trackChanges: Bool { values["odata.track-changes"] != nil }
    var continueOnError: Bool { values["odata.continue-on-error"] != nil }
    /// Whether `odata.include-annotations` asks for an annotation (`*`, `Microsoft.Dynamics.CRM.*` or its name).
    func includesAnnotation(_ name: String) -> Bool {
        guard let list = values["odata.include-annotations"] else { return false }
        return list.split(separator: ",").contains { pattern in
            let pattern = pattern.trimmingWhitespace()
            return pattern == "*" || pattern == name || (pattern.hasSuffix(".*") && name.hasPrefix(pattern.dropLast()))
        }
    }
    /// The page size asked for, when it is a positive number (clamped to 5,000).
    var maxPageSize: Int? { values["odata.maxpagesize"].flatMap(Int.init).map { min(max($0, 1), 5000) } }
}

/// How error codes are written in `error.code`.
enum WireCode {
    /// The hex code; product-only codes become the Dataverse code for the same HTTP-level
    /// failure (`query.invalid` is an OData query syntax error, `0x80060888`), or empty,
    /// as the Web API does for errors that have no code.
    static func of(_ code: ErrorCode) -> String {
        if code.value.hasPrefix("0x") || code.value.isEmpty { return code.value }
        if code == .queryInvalid { return ErrorCode.invalidKey.value }
        return ""
    }
}

/// Errors that exist only at the HTTP level.
extension ErrorCode {
    /// 401: no or wrong bearer token (the Web API answers without a code).
    static let unauthorized = ErrorCode("", name: "Unauthorized", httpStatus: 401)
    /// 405: a method the resource does not support.
    static let methodNotAllowed = ErrorCode("0x80060888", name: "MethodNotAllowed", httpStatus: 405)
    /// 413: a body over the server's limit.
    static let payloadTooLarge = ErrorCode("", name: "PayloadTooLarge", httpStatus: 413)
    /// 414: a URL over 32 KB.
    static let uriTooLong = ErrorCode("", name: "URITooLong", httpStatus: 414)
    /// 429: the request limit of the window is used up (`0x80072322`).
    static let tooManyRequests = ErrorCode("0x80072322", name: "TooManyRequests", httpStatus: 429)
    /// 501: a feature the server does not implement.
    static let notImplemented = ErrorCode("", name: "NotImplemented", httpStatus: 501)
    /// 500: an unexpected failure.
    static let internalError = ErrorCode("", name: "InternalError", httpStatus: 500)
}
