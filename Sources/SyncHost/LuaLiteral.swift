import Foundation

/// Renders REPL values as Lua literals: `{name = "A", n = 2}`, nested tables indented
/// when they do not fit on one line.
enum LuaLiteral {
    /// The literal for `value`, breaking tables over several lines past `width` characters.
    static func render(_ value: ReplValue, width: Int, indent: Int = 0) -> String {
        let inline = self.inline(value)
        guard inline.count + indent > width, !value.isScalar else { return inline }
        let padding = String(repeating: "  ", count: indent / 2 + 1)
        let items: [String]
        switch value {
        case .list(let elements): items = elements.map { render($0, width: width, indent: indent + 2) }
        case .table(let fields):
            items = fields.map { "\(key($0.key)) = " + render($0.value, width: width, indent: indent + 2) }
        default: return inline
        }
        let closing = String(repeating: "  ", count: indent / 2)
        return "{\n" + items.map { padding + $0 + "," }.joined(separator: "\n") + "\n" + closing + "}"
    }

    /// The one-line literal.
    static func inline(_ value: ReplValue) -> String {
        switch value {
        case .nil: return "nil"
        case .boolean(let flag): return flag ? "true" : "false"
        case .integer(let number): return String(number)
        case .number(let number): return numberText(number)
        case .string(let text): return escape(text)
        case .text(let text): return text
        case .list(let items): return items.isEmpty ? "{}" : "{" + items.map(inline).joined(separator: ", ") + "}"
        case .table(let fields):
            return "{" + fields.map { "\(key($0.key)) = \(inline($0.value))" }.joined(separator: ", ") + "}"
        }
    }

    /// A float the way Lua prints it (`%.14g`, with `.0` on whole numbers).
    static func numberText(_ number: Double) -> String {
        if number.isNaN { return "nan" }
        if number.isInfinite { return number < 0 ? "-inf" : "inf" }
        let text = String(format: "%.14g", number)
        return text.contains(where: { $0 == "." || $0 == "e" }) ? text : text + ".0"
    }

    /// A quoted Lua string with escapes for quotes, backslashes and control characters.
    static func escape(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            default:
                if scalar.value < 32 || scalar.value == 127 { result += String(format: "\\%03d", scalar.value) } else { result.unicodeScalars.append(scalar) }
            }
        }
        return result + "\""
    }

    private static func key(_ name: String) -> String {
        if name.hasPrefix("[") { return name }
        return isIdentifier(name) ? name : "[\(escape(name))]"
    }

    static let keywords: Set<String> = [
        "and", "break", "do", "else", "elseif", "end", "false", "for", "function", "goto", "if", "in",
        "local", "nil", "not", "or", "repeat", "return", "then", "true", "until", "while",
    ]

    /// True for a Lua name that is not a keyword.
    static func isIdentifier(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, !keywords.contains(name) else { return false }
        let letters = CharacterSet.letters.union(CharacterSet(charactersIn: "_"))
        guard first.isASCII, letters.contains(first) else { return false }
        return name.unicodeScalars.allSatisfy { $0.isASCII && (letters.contains($0) || CharacterSet.decimalDigits.contains($0)) }
    }
}
