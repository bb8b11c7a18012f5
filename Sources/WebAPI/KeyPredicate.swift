import EntityModel
import Foundation

/// A parsed key predicate: a bare GUID, or named values (`accountnumber='A1'`, `new_region=7,new_code='X'`).
enum KeyPredicate {
    case id(RecordID)
    case keys([String: FieldValue])

    /// Parses the decoded text between the parentheses.
    /// - Throws: `0x80060888` for a malformed predicate or a parameter alias.
    static func parse(_ text: String, entity: String) throws -> KeyPredicate {
        let parts = try splitTopLevel(text, entity: entity)
        if parts.count == 1, !containsEquals(parts[0]) {
            let value = parts[0].trimmingWhitespace()
            if value.hasPrefix("@") { throw aliasError(entity) }
            guard let id = RecordID(value) else { throw invalid(entity, "'\(value)' is not a GUID") }
            return .id(id)
        }
        var values: [String: FieldValue] = [:]
        for part in parts {
            guard let equals = part.firstIndex(of: "=") else { throw invalid(entity, "'\(part)' has no value") }
            let name = part[..<equals].trimmingWhitespace()
            let literal = part[part.index(after: equals)...].trimmingWhitespace()
            guard !name.isEmpty, values[name] == nil else { throw invalid(entity, "a key property is empty or repeated") }
            values[name] = try value(literal, entity: entity)
        }
        return .keys(values)
    }

    /// The reference the predicate names.
    func reference(_ entity: String) -> EntityReference {
        switch self {
        case .id(let id): return EntityReference(entity, id: id)
        case .keys(let values): return EntityReference(entity, keys: values)
        }
    }

    private static func containsEquals(_ text: String) -> Bool {
        var quoted = false
        for char in text {
            if char == "'" { quoted.toggle() }
            if char == "=" && !quoted { return true }
        }
        return false
    }

    private static func splitTopLevel(_ text: String, entity: String) throws -> [String] {
        var parts: [String] = []
        var current = ""
        var quoted = false
        for char in text {
            if char == "'" { quoted.toggle() }
            if char == "," && !quoted {
                parts.append(current)
                current = ""
            } else {
                current.append(char)
            }
        }
        guard !quoted else { throw invalid(entity, "unterminated string literal") }
        parts.append(current)
        guard !parts.contains(where: { $0.trimmingWhitespace().isEmpty }) else {
            throw invalid(entity, "empty key value")
        }
        return parts
    }

    /// An OData literal: `'text'` (quotes doubled inside), a GUID, a number, `true`/`false`, `null`.
    static func value(_ literal: String, entity: String) throws -> FieldValue {
        if literal.hasPrefix("@") { throw aliasError(entity) }
        if literal.count >= 2, literal.hasPrefix("'"), literal.hasSuffix("'") {
            guard let unescaped = unquoted(literal.dropFirst().dropLast()) else {
                throw invalid(entity, "a quote inside a string must be doubled")
            }
            return .string(unescaped)
        }
        switch literal {
        case "null": return .null
        case "true": return .boolean(true)
        case "false": return .boolean(false)
        default: break
        }
        if let id = RecordID(literal) { return .guid(id) }
        if let integer = Int64(literal) { return .integer(integer) }
        if let decimal = DecimalNumber(literal) { return .decimal(decimal) }
        throw invalid(entity, "'\(literal)' is not a value")
    }

    /// The inside of a string literal with each doubled quote made single; nil when a quote is not doubled.
    private static func unquoted(_ inner: Substring) -> String? {
        var result = String.UnicodeScalarView()
        var scalars = inner.unicodeScalars[...]
        while let scalar = scalars.popFirst() {
            if scalar == "'" {
                guard scalars.popFirst() == "'" else { return nil }
            }
            result.append(scalar)
        }
        return String(result)
    }

    static func aliasError(_ entity: String) -> ServiceError {
        ServiceError(.invalidKey, "Parameter aliases are not supported in key predicates (resource 'Microsoft.Dynamics.CRM.\(entity)').",
                     entity: entity)
    }

    static func invalid(_ entity: String, _ reason: String) -> ServiceError {
        ServiceError(.invalidKey, "The key in the request URI is not valid for resource 'Microsoft.Dynamics.CRM.\(entity)': \(reason).",
                     entity: entity)
    }
}
