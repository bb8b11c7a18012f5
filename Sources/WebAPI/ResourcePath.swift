import EntityModel
import Foundation

/// One path segment: a name and, when written `name(…)`, the raw text between the parentheses.
struct PathSegment: Equatable {
    /// The decoded name (`accounts`, `$count`, `Microsoft.Dynamics.CRM.CreateMultiple`).
    var name: String
    /// The decoded predicate text, without the parentheses.
    var predicate: String?
    /// The predicate exactly as the URL wrote it (echoed in `OData-EntityId`).
    var rawPredicate: String?
}

/// A request target split into path segments under `/api/data/v9.2` and query options.
struct ResourcePath {
    /// The API root every resource lives under.
    static let root = "/api/data/v9.2"

    /// The segments after the root (empty for the service document).
    var segments: [PathSegment]
    /// The query options, decoded, in order.
    var options: QueryOptions

    /// Parses a raw target (`/api/data/v9.2/accounts(accountnumber='A1')?$select=name`).
    /// - Throws: `0x8006088a` for a path outside the API root, `0x80060888` for a malformed path or query.
    init(target: String) throws {
        let parts = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        var path = String(parts[0])
        if let schemeEnd = path.range(of: "://"), let slash = path[schemeEnd.upperBound...].firstIndex(of: "/") {
            path = String(path[slash...])
        }
        guard path == Self.root || path.hasPrefix(Self.root + "/") else {
            throw ServiceError(.resourceNotFound, "Resource not found for the segment '\(path)'.")
        }
        let rest = path.dropFirst(Self.root.count).drop { $0 == "/" }
        segments = try Self.splitSegments(String(rest)).map(Self.parseSegment)
        options = try QueryOptions(raw: parts.count > 1 ? String(parts[1]) : "")
    }

    /// Splits on `/` outside quotes and parentheses.
    private static func splitSegments(_ text: String) throws -> [String] {
        var result: [String] = []
        var current = ""
        var depth = 0
        var quoted = false
        for char in text {
            if char == "'" { quoted.toggle() }
            if !quoted && char == "(" { depth += 1 }
            if !quoted && char == ")" { depth -= 1 }
            if char == "/" && !quoted && depth == 0 {
                result.append(current)
                current = ""
            } else {
                current.append(char)
            }
        }
        if !current.isEmpty || !result.isEmpty { result.append(current) }
        if result.last == "" { result.removeLast() }
        guard !result.contains(where: \.isEmpty) else { throw malformed(text, "an empty segment") }
        return result
    }

    private static func parseSegment(_ raw: String) throws -> PathSegment {
        guard let open = raw.firstIndex(of: "(") else {
            return PathSegment(name: try decodePath(raw), predicate: nil, rawPredicate: nil)
        }
        guard raw.hasSuffix(")") else { throw malformed(raw, "a key predicate must end with ')'") }
        let inner = String(raw[raw.index(after: open)..<raw.index(before: raw.endIndex)])
        return PathSegment(name: try decodePath(String(raw[..<open])), predicate: try decodePath(inner), rawPredicate: inner)
    }

    /// Percent-decodes a path piece; `+` stays `+` in a path.
    static func decodePath(_ text: String) throws -> String {
        guard let decoded = text.removingPercentEncoding else { throw malformed(text, "invalid percent-encoding") }
        return decoded
    }

    static func malformed(_ text: String, _ reason: String) -> ServiceError {
        ServiceError(.invalidKey, "Bad Request - Error in query syntax: \(reason) in '\(text)'.")
    }
}

/// Query options (`$select`, `$filter`, …) and parameter aliases, form-decoded.
struct QueryOptions {
    /// Name to value, in the order written.
    private(set) var items: [(String, String)] = []

    /// Parses a raw query string; `+` is a space, `%XX` is a byte.
    /// - Throws: `0x80060888` for bad encoding or an option given twice.
    init(raw: String) throws {
        for pair in raw.split(separator: "&") where !pair.isEmpty {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = try Self.decode(String(parts[0]))
            let value = try Self.decode(parts.count > 1 ? String(parts[1]) : "")
            guard self[name] == nil else {
                throw ServiceError(.invalidKey, "The query parameter '\(name)' is specified more than once.")
            }
            items.append((name, value))
        }
    }

    init(items: [(String, String)]) { self.items = items }

    static func decode(_ text: String) throws -> String {
        guard let decoded = text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding else {
            throw ServiceError(.invalidKey, "Bad Request - Error in query syntax: invalid percent-encoding in '\(text)'.")
        }
        return decoded
    }

    /// The value of an option.
    subscript(name: String) -> String? { items.first { $0.0 == name }?.1 }

    /// The options with some removed and some set, for next and delta links.
    func replacing(_ changes: [(String, String?)]) -> QueryOptions {
        var result = items.filter { item in !changes.contains { $0.0 == item.0 } }
        for (name, value) in changes { if let value { result.append((name, value)) } }
        return QueryOptions(items: result)
    }

    /// The query string, percent-encoded (`$` and `,` kept readable).
    var encoded: String {
        items.map { "\(Self.encode($0.0))=\(Self.encode($0.1))" }.joined(separator: "&")
    }

    static func encode(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~$,()'")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }

    /// The `$select` list, nil when absent.
    var select: [String]? {
        self["$select"].map { $0.split(separator: ",").map { $0.trimmingWhitespace() } }
    }
}
