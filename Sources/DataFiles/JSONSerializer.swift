/// Writes `JSONValue`s as UTF-8 JSON text, compact or indented by two spaces.
struct JSONSerializer {
    private static let hexDigits = Array("0123456789abcdef".utf8)

    let pretty: Bool
    let escapeNonASCII: Bool
    let fileName: String

    /// Appends `value`; on error `output` may hold part of it, so callers roll back.
    /// - Throws: `DataFileError` with code `json.invalid_number`.
    func append(_ value: JSONValue, to output: inout [UInt8], indent: Int = 0) throws {
        switch value {
        case .null: output.append(contentsOf: "null".utf8)
        case .bool(let flag): output.append(contentsOf: (flag ? "true" : "false").utf8)
        case .number(let text):
            guard JSONNumberGrammar.isValid(text) else {
                throw DataFileError(
                    code: .jsonInvalidNumber, file: fileName, message: "'\(text)' is not a valid JSON number")
            }
            output.append(contentsOf: text.utf8)
        case .string(let text): appendString(text, to: &output)
        case .array(let elements):
            try appendContainer(
                elements, open: UInt8(ascii: "["), close: UInt8(ascii: "]"), to: &output, indent: indent
            ) {
                element, output in
                try append(element, to: &output, indent: indent + 1)
            }
        case .object(let members):
            try appendContainer(members, open: UInt8(ascii: "{"), close: UInt8(ascii: "}"), to: &output, indent: indent)
            {
                member, output in
                appendString(member.0, to: &output)
                output.append(UInt8(ascii: ":"))
                if pretty { output.append(UInt8(ascii: " ")) }
                try append(member.1, to: &output, indent: indent + 1)
            }
        }
    }

    /// Writes brackets, separators and (when pretty) newlines and indentation around the elements.
    private func appendContainer<Element>(
        _ elements: [Element], open: UInt8, close: UInt8, to output: inout [UInt8], indent: Int,
        appendElement: (Element, inout [UInt8]) throws -> Void
    ) rethrows {
        output.append(open)
        for (position, element) in elements.enumerated() {
            if position > 0 { output.append(UInt8(ascii: ",")) }
            if pretty { appendNewline(to: &output, indent: indent + 1) }
            try appendElement(element, &output)
        }
        if pretty && !elements.isEmpty { appendNewline(to: &output, indent: indent) }
        output.append(close)
    }

    private func appendNewline(to output: inout [UInt8], indent: Int) {
        output.append(UInt8(ascii: "\n"))
        output.append(contentsOf: repeatElement(UInt8(ascii: " "), count: indent * 2))
    }

    /// Appends a quoted string, escaping quotes, backslashes, control characters and,
    /// when asked, everything outside ASCII.
    func appendString(_ text: String, to output: inout [UInt8]) {
        output.append(UInt8(ascii: "\""))
        if escapeNonASCII {
            for scalar in text.unicodeScalars {
                if scalar.value < 0x80 {
                    appendEscaped(UInt8(scalar.value), to: &output)
                } else {
                    for unit in UTF16.encode(scalar)! { appendUnicodeEscape(unit, to: &output) }
                }
            }
        } else {
            var text = text
            text.withUTF8 { bytes in
                // Copy runs that need no escaping in one go.
                var runStart = 0
                for index in bytes.indices
                where bytes[index] < 0x20 || bytes[index] == UInt8(ascii: "\"") || bytes[index] == UInt8(ascii: "\\") {
                    output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<index]))
                    appendEscaped(bytes[index], to: &output)
                    runStart = index + 1
                }
                output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart...]))
            }
        }
        output.append(UInt8(ascii: "\""))
    }

    func appendEscaped(_ byte: UInt8, to output: inout [UInt8]) {
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"): output.append(contentsOf: [UInt8(ascii: "\\"), byte])
        case 0x0A: output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
        case 0x0D: output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
        case 0x09: output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
        case 0x08: output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "b")])
        case 0x0C: output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "f")])
        case 0..<0x20: appendUnicodeEscape(UInt16(byte), to: &output)
        default: output.append(byte)
        }
    }

    private func appendUnicodeEscape(_ unit: UInt16, to output: inout [UInt8]) {
        output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u")])
        for shift in stride(from: 12, through: 0, by: -4) {
            output.append(Self.hexDigits[Int((unit >> UInt16(shift)) & 0xF)])
        }
    }
}
