/// A recursive-descent JSON parser over UTF-8 bytes, with a nesting limit so hostile input
/// cannot exhaust the stack. Errors carry the line and column.
struct JSONParser {
    let bytes: UnsafeBufferPointer<UInt8>
    private let fileName: String
    private let maxDepth: Int
    var index = 0
    private var line: Int
    private var lineStart = 0
    private var depth = 0
    /// Reused storage for strings with escapes.
    var scratch: [UInt8] = []

    /// Parses `bytes` as exactly one JSON value; `firstLine` is the line number of the first byte.
    static func parse(
        _ bytes: UnsafeBufferPointer<UInt8>, fileName: String, firstLine: Int = 1, maxDepth: Int
    ) throws -> JSONValue {
        var parser = JSONParser(bytes: bytes, fileName: fileName, maxDepth: maxDepth, line: firstLine)
        return try parser.parseDocument()
    }

    private init(bytes: UnsafeBufferPointer<UInt8>, fileName: String, maxDepth: Int, line: Int) {
        self.bytes = bytes
        self.fileName = fileName
        self.maxDepth = maxDepth
        self.line = line
    }

    private mutating func parseDocument() throws -> JSONValue {
        if bytes.count >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF { index = 3 }
        skipWhitespace()
        let value = try parseValue()
        skipWhitespace()
        guard index == bytes.count else { throw syntaxError("unexpected \(describeCurrent()) after the JSON value") }
        return value
    }

    private mutating func parseValue() throws -> JSONValue {
        guard index < bytes.count else { throw syntaxError("unexpected end of input; expected a value") }
        switch bytes[index] {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"):
            try expectLiteral("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try expectLiteral("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try expectLiteral("null")
            return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        default: throw syntaxError("unexpected \(describeCurrent()); expected a value")
        }
    }

    private mutating func parseObject() throws -> JSONValue {
        try enterNesting()
        index += 1
        var members: [(String, JSONValue)] = []
        skipWhitespace()
        if peek() == UInt8(ascii: "}") {
            index += 1
            depth -= 1
            return .object(members)
        }
        while true {
            skipWhitespace()
            guard peek() == UInt8(ascii: "\"") else {
                throw syntaxError("expected a string key, found \(describeCurrent())")
            }
            let key = try parseString()
            skipWhitespace()
            guard peek() == UInt8(ascii: ":") else {
                throw syntaxError("expected ':' after an object key, found \(describeCurrent())")
            }
            index += 1
            skipWhitespace()
            members.append((key, try parseValue()))
            skipWhitespace()
            if try endOfList(closing: UInt8(ascii: "}"), container: "object") { break }
        }
        depth -= 1
        return .object(members)
    }

    private mutating func parseArray() throws -> JSONValue {
        try enterNesting()
        index += 1
        var elements: [JSONValue] = []
        skipWhitespace()
        if peek() == UInt8(ascii: "]") {
            index += 1
            depth -= 1
            return .array(elements)
        }
        while true {
            skipWhitespace()
            elements.append(try parseValue())
            skipWhitespace()
            if try endOfList(closing: UInt8(ascii: "]"), container: "array") { break }
        }
        depth -= 1
        return .array(elements)
    }

    /// After a member or element: consumes ',' (returns false) or the closing bracket (returns true).
    private mutating func endOfList(closing: UInt8, container: String) throws -> Bool {
        if peek() == UInt8(ascii: ",") {
            index += 1
            return false
        }
        if peek() == closing {
            index += 1
            return true
        }
        let expected = "',' or '\(Character(Unicode.Scalar(closing)))'"
        throw syntaxError("expected \(expected) in \(container), found \(describeCurrent())")
    }

    private mutating func enterNesting() throws {
        depth += 1
        guard depth <= maxDepth else {
            throw error(.jsonTooDeep, "JSON is nested deeper than \(maxDepth) levels", at: index)
        }
    }

    private mutating func parseNumber() throws -> JSONValue {
        guard let end = JSONNumberGrammar.scan(bytes, from: index) else { throw syntaxError("invalid number") }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[index..<end]), as: UTF8.self)
        index = end
        return .number(text)
    }

    private mutating func expectLiteral(_ literal: StaticString) throws {
        let length = literal.utf8CodeUnitCount
        let matches =
            index + length <= bytes.count
            && (0..<length).allSatisfy { bytes[index + $0] == literal.utf8Start[$0] }
        guard matches else { throw syntaxError("unexpected \(describeCurrent()); expected a value") }
        index += length
    }

    private func peek() -> UInt8? { index < bytes.count ? bytes[index] : nil }

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"): index += 1
            case UInt8(ascii: "\n"):
                index += 1
                line += 1
                lineStart = index
            default: return
            }
        }
    }
}

extension JSONParser {
    /// A syntax error at the current position.
    func syntaxError(_ message: String) -> DataFileError {
        error(.jsonSyntax, message, at: index)
    }

    /// An error at byte `offset` of the current line; the column counts characters, not bytes.
    func error(_ code: DataFileError.Code, _ message: String, at offset: Int) -> DataFileError {
        var column = 1
        var position = lineStart
        while position < offset && position < bytes.count {
            if bytes[position] & 0xC0 != 0x80 { column += 1 }
            position += 1
        }
        return DataFileError(code: code, file: fileName, line: line, column: column, message: message)
    }

    /// Names the byte at the current position for messages.
    func describeCurrent() -> String {
        guard index < bytes.count else { return "end of input" }
        let byte = bytes[index]
        if byte >= 0x20 && byte < 0x7F { return "'\(Character(Unicode.Scalar(byte)))'" }
        return "byte 0x" + String(byte, radix: 16, uppercase: true)
    }
}
