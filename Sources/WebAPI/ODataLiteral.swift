import EntityModel
import Foundation

/// OData literal text for key predicates and `$filter` (the client's side of `KeyPredicate`).
enum ODataLiteral {
    /// `'text'` with quotes doubled, numbers and GUIDs bare, `true`/`false`/`null`, date-times in ISO 8601.
    static func text(_ value: FieldValue) -> String {
        switch value {
        case .null: return "null"
        case .string(let text): return "'\(text.replacingOccurrences(of: "'", with: "''"))'"
        case .integer(let number): return String(number)
        case .decimal(let number): return number.description
        case .float(let number): return String(number)
        case .boolean(let flag): return flag ? "true" : "false"
        case .dateTime(let date): return DateText.string(from: date)
        case .guid(let id): return id.description
        case .reference(let reference): return reference.id?.description ?? "null"
        }
    }

    /// Percent-encodes a literal for a URL path, keeping the characters predicates are made of.
    static func pathEncoded(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~'=,()@!$*;:")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }
}

extension FilterExpression {
    /// The expression as `$filter` text that `FilterParser` reads back to the same expression.
    var odataText: String {
        switch self {
        case .comparison(let column, let op, let value): return "\(column) \(op.rawValue) \(ODataLiteral.text(value))"
        case .function(let function, let column, let text):
            return "\(function.rawValue)(\(column),\(ODataLiteral.text(.string(text))))"
        case .and(let left, let right): return "(\(left.odataText) and \(right.odataText))"
        case .or(let left, let right): return "(\(left.odataText) or \(right.odataText))"
        case .not(let inner): return "not (\(inner.odataText))"
        }
    }
}
