private let quote = UInt8(ascii: "\"")
private let backslash = UInt8(ascii: "\\")

extension JSONParser {
    /// Parses a string starting at its opening quote.
    mutating func parseString() throws -> String {
        let opening = index
        index += 1
        let contentStart = index
        // Fast path: most strings have no escapes and become one String directly.
        while index < bytes.count {
            let byte = bytes[index]
            if byte == quote || byte == backslash || byte < 0x20 { break }
            index += 1
        }
        guard index < bytes.count else { throw error(.jsonSyntax, "unterminated string", at: opening) }
        guard bytes[index] == quote else { return try parseEscapedString(opening: opening, contentStart: contentStart) }
        let content = UnsafeBufferPointer(rebasing: bytes[contentStart..<index])
        try validateUTF8(content, startingAt: contentStart)
        index += 1
        return String(decoding: content, as: UTF8.self)
    }

    /// Continues a string that contains escapes, collecting its bytes in `scratch`.
    private mutating func parseEscapedString(opening: Int, contentStart: Int) throws -> String {
        scratch.removeAll(keepingCapacity: true)
        var runStart = contentStart
        while true {
            guard index < bytes.count else { throw error(.jsonSyntax, "unterminated string", at: opening) }
            let byte = bytes[index]
            if byte == quote { break }
            if byte < 0x20 {
                throw syntaxError("unescaped control character 0x\(String(byte, radix: 16, uppercase: true)) in string")
            }
            if byte == backslash {
                try appendRun(from: runStart)
                try appendEscape()
                runStart = index
            } else {
                index += 1
            }
        }
        try appendRun(from: runStart)
        index += 1
        return String(decoding: scratch, as: UTF8.self)
    }

    /// Appends the unescaped bytes from `start` up to the current position.
    private mutating func appendRun(from start: Int) throws {
        let run = UnsafeBufferPointer(rebasing: bytes[start..<index])
        try validateUTF8(run, startingAt: start)
        scratch.append(contentsOf: run)
    }

    /// Decodes the escape sequence at the current backslash.
    private mutating func appendEscape() throws {
        guard index + 1 < bytes.count else { throw syntaxError("unterminated string") }
        let escape = bytes[index + 1]
        let simple: UInt8?
        switch escape {
        case quote, backslash, UInt8(ascii: "/"): simple = escape
        case UInt8(ascii: "b"): simple = 0x08
        case UInt8(ascii: "f"): simple = 0x0C
        case UInt8(ascii: "n"): simple = 0x0A
        case UInt8(ascii: "r"): simple = 0x0D
        case UInt8(ascii: "t"): simple = 0x09
        case UInt8(ascii: "u"): simple = nil
        default:
            index += 1
            throw syntaxError("invalid escape sequence: \(describeCurrent()) after a backslash")
        }
        if let simple {
            scratch.append(simple)
            index += 2
            return
        }
        let scalar = try parseUnicodeEscape()
        UTF8.encode(scalar) { scratch.append($0) }
    }

    /// Decodes `\uXXXX`, combining a surrogate pair into one scalar.
    private mutating func parseUnicodeEscape() throws -> Unicode.Scalar {
        let escapeStart = index
        let first = try readHex4(at: index + 2)
        index += 6
        // made only when thrown: placing an error counts the lines before it, and doing that for
        // every escape made a body of many escapes take quadratic time
        func unpaired() -> Error { error(.jsonSyntax, "unpaired UTF-16 surrogate in \\u escape", at: escapeStart) }
        if (0xDC00...0xDFFF).contains(first) { throw unpaired() }
        guard (0xD800...0xDBFF).contains(first) else { return Unicode.Scalar(first)! }
        guard index + 1 < bytes.count, bytes[index] == backslash, bytes[index + 1] == UInt8(ascii: "u") else {
            throw unpaired()
        }
        let second = try readHex4(at: index + 2)
        guard (0xDC00...0xDFFF).contains(second) else { throw unpaired() }
        index += 6
        return Unicode.Scalar(0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00))!
    }

    /// Reads four hex digits at `offset`.
    private func readHex4(at offset: Int) throws -> UInt32 {
        var value: UInt32 = 0
        for position in offset..<offset + 4 {
            guard position < bytes.count, let digit = hexDigitValue(bytes[position]) else {
                throw error(.jsonSyntax, "invalid \\u escape; expected four hex digits", at: offset - 2)
            }
            value = value << 4 | digit
        }
        return value
    }

    private func hexDigitValue(_ byte: UInt8) -> UInt32? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return UInt32(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return UInt32(byte - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return UInt32(byte - UInt8(ascii: "A") + 10)
        default: return nil
        }
    }

    private func validateUTF8(_ content: UnsafeBufferPointer<UInt8>, startingAt start: Int) throws {
        if let invalid = UTF8Validation.firstInvalidOffset(in: content) {
            throw error(.invalidUTF8, "invalid UTF-8 in string", at: start + invalid)
        }
    }
}
