/// Pieces of compact JSON text for writers that build a line themselves
/// (`JSONLinesWriter.writeLine`), written exactly as `JSONValue` serialization writes them.
public enum JSONText {
    private static let serializer = JSONSerializer(pretty: false, escapeNonASCII: false, fileName: "<line>")

    /// Appends a quoted string; `bytes` must be valid UTF-8 (see `isValidUTF8`).
    public static func appendString(_ bytes: UnsafeRawBufferPointer, to output: inout [UInt8]) {
        let bytes = bytes.assumingMemoryBound(to: UInt8.self)
        output.append(UInt8(ascii: "\""))
        var runStart = 0
        for index in 0..<bytes.count where bytes[index] < 0x20 || bytes[index] == UInt8(ascii: "\"") || bytes[index] == UInt8(ascii: "\\") {
            // (typed buffers: a raw buffer's slice is appended byte by byte)
            output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<index]))
            serializer.appendEscaped(bytes[index], to: &output)
            runStart = index + 1
        }
        output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart...]))
        output.append(UInt8(ascii: "\""))
    }

    /// Appends a quoted string.
    public static func appendString(_ text: String, to output: inout [UInt8]) {
        serializer.appendString(text, to: &output)
    }

    /// True when the bytes are valid UTF-8 (a Swift string made from them would be the same bytes).
    public static func isValidUTF8(_ bytes: UnsafeRawBufferPointer) -> Bool {
        UTF8Validation.firstInvalidOffset(in: bytes.assumingMemoryBound(to: UInt8.self)) == nil
    }

    /// True when `text` is a number as JSON writes it.
    public static func isValidNumber(_ text: String) -> Bool { JSONNumberGrammar.isValid(text) }
}
