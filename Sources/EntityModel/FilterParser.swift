/// Parses the `$filter` subset: `eq ne gt ge lt le`, `and or not`, parentheses, `null`,
/// `true`/`false`, numbers, GUIDs, quoted strings with doubled quotes, and
/// `contains`/`startswith`/`endswith`.
public struct FilterParser {
    private enum Token: Equatable {
        case word(String), string(String), number(String), open, close, comma
    }

    private var tokens: [Token] = []
    private var position = 0
    private let source: String
    /// Parentheses and `not`s open around the current position, and comparisons so far: a
    /// filter past `maxDepth` or `maxTerms` is refused here, as one SQLite could not compile
    /// (its parser's stack, its expression depth of 1,000) would otherwise fail as the store's error.
    private var depth = 0
    private var terms = 0
    /// The deepest nesting of parentheses and `not`.
    public static let maxDepth = 32
    /// The most comparisons and functions in one filter.
    public static let maxTerms = 900

    /// Parses filter text.
    /// - Throws: `ServiceError` with code `query.invalid` naming the problem.
    public static func parse(_ text: String) throws -> FilterExpression {
        var parser = FilterParser(source: text)
        parser.tokens = try tokenize(text)
        let expression = try parser.parseOr()
        guard parser.position == parser.tokens.count else {
            throw parser.failure("unexpected text after the expression")
        }
        return expression
    }

    private init(source: String) { self.source = source }

    private func failure(_ message: String) -> ServiceError {
        // (a long filter is named by its start: the message goes back to clients and logs)
        let shown = source.count > 200 ? source.prefix(200) + "…" : Substring(source)
        return ServiceError(.queryInvalid, "Invalid filter '\(shown)': \(message)")
    }

    private static func tokenize(_ text: String) throws -> [Token] {
        var tokens: [Token] = []
        let chars = Array(text)
        var index = 0
        while index < chars.count {
            let char = chars[index]
            if char == " " || char == "\t" || char == "\n" { index += 1; continue }
            if char == "(" { tokens.append(.open); index += 1; continue }
            if char == ")" { tokens.append(.close); index += 1; continue }
            if char == "," { tokens.append(.comma); index += 1; continue }
            if char == "'" {
                var value = ""
                index += 1
                var closed = false
                while index < chars.count {
                    if chars[index] == "'" {
                        if index + 1 < chars.count && chars[index + 1] == "'" { value.append("'"); index += 2; continue }
                        closed = true
                        index += 1
                        break
                    }
                    value.append(chars[index])
                    index += 1
                }
                guard closed else { throw ServiceError(.queryInvalid, "Invalid filter '\(text)': unterminated string literal") }
                tokens.append(.string(value))
                continue
            }
            var word = ""
            while index < chars.count, !" \t\n(),'".contains(chars[index]) {
                word.append(chars[index])
                index += 1
            }
            if let first = word.first, first.isNumber || first == "-" || first == "." {
                tokens.append(RecordID(word) != nil ? .word(word) : .number(word))
            } else {
                tokens.append(.word(word))
            }
        }
        return tokens
    }

    private mutating func next() -> Token? {
        guard position < tokens.count else { return nil }
        defer { position += 1 }
        return tokens[position]
    }

    private func peekWord() -> String? {
        guard position < tokens.count, case .word(let word) = tokens[position] else { return nil }
        return word
    }

    private mutating func parseOr() throws -> FilterExpression {
        var left = try parseAnd()
        while peekWord() == "or" {
            position += 1
            left = .or(left, try parseAnd())
        }
        return left
    }

    private mutating func parseAnd() throws -> FilterExpression {
        var left = try parseUnary()
        while peekWord() == "and" {
            position += 1
            left = .and(left, try parseUnary())
        }
        return left
    }

    private mutating func parseUnary() throws -> FilterExpression {
        if peekWord() == "not" {
            position += 1
            try enter()
            defer { depth -= 1 }
            return .not(try parseUnary())
        }
        if position < tokens.count, tokens[position] == .open {
            position += 1
            try enter()
            defer { depth -= 1 }
            let inner = try parseOr()
            guard next() == .close else { throw failure("missing ')'") }
            return inner
        }
        terms += 1
        guard terms <= Self.maxTerms else { throw failure("more than \(Self.maxTerms) comparisons") }
        return try parseTerm()
    }

    private mutating func enter() throws {
        depth += 1
        guard depth <= Self.maxDepth else { throw failure("parentheses and 'not' nested more than \(Self.maxDepth) deep") }
    }

    private mutating func parseTerm() throws -> FilterExpression {
        guard case .word(let name)? = next() else { throw failure("expected a column name") }
        if let function = StringFunction(rawValue: name) {
            guard next() == .open, case .word(let column)? = next(), next() == .comma,
                  case .string(let text)? = next(), next() == .close else {
                throw failure("expected \(name)(column,'text')")
            }
            return .function(function, column: column, text: text)
        }
        guard case .word(let opText)? = next(), let op = ComparisonOperator(rawValue: opText) else {
            throw failure("expected eq, ne, gt, ge, lt or le after '\(name)'")
        }
        return .comparison(column: name, op: op, value: try parseLiteral())
    }

    /// `YYYY-MM-DD` at the start: an OData date or date-time literal.
    static func looksLikeDate(_ text: String) -> Bool {
        let bytes = Array(text.utf8.prefix(10))
        guard bytes.count == 10 else { return false }
        return bytes.enumerated().allSatisfy { index, byte in
            index == 4 || index == 7 ? byte == UInt8(ascii: "-") : (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
        }
    }

    private mutating func parseLiteral() throws -> FieldValue {
        switch next() {
        case .string(let text)?: return .string(text)
        case .number(let text)?:
            if let integer = Int64(text) { return .integer(integer) }
            if let decimal = DecimalNumber(text) { return .decimal(decimal) }
            // OData writes dates and date-times unquoted (createdon gt 2020-01-01T00:00:00Z):
            // the same value as the quoted form, which a date-time column reads
            if Self.looksLikeDate(text) { return .string(text) }
            throw failure("'\(text)' is not a number")
        case .word(let word)?:
            switch word {
            case "null": return .null
            case "true": return .boolean(true)
            case "false": return .boolean(false)
            default:
                if let id = RecordID(word) { return .guid(id) }
                throw failure("'\(word)' is not a value")
            }
        default: throw failure("expected a value")
        }
    }
}
