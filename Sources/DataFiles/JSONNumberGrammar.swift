/// The JSON number grammar: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
enum JSONNumberGrammar {
    /// Returns the end of the number starting at `start`, or nil when the text there is not a valid number.
    static func scan(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> Int? {
        var index = start
        if index < bytes.count && bytes[index] == UInt8(ascii: "-") { index += 1 }
        guard index < bytes.count, isDigit(bytes[index]) else { return nil }
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
        } else {
            index = skipDigits(bytes, from: index)
        }
        if index < bytes.count && bytes[index] == UInt8(ascii: ".") {
            guard index + 1 < bytes.count, isDigit(bytes[index + 1]) else { return nil }
            index = skipDigits(bytes, from: index + 1)
        }
        if index < bytes.count && (bytes[index] | 0x20) == UInt8(ascii: "e") {
            index += 1
            if index < bytes.count && (bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-")) {
                index += 1
            }
            guard index < bytes.count, isDigit(bytes[index]) else { return nil }
            index = skipDigits(bytes, from: index)
        }
        return index
    }

    /// True when `text` is exactly one JSON number.
    static func isValid(_ text: String) -> Bool {
        var text = text
        return text.withUTF8 { bytes in scan(bytes, from: 0) == bytes.count }
    }

    private static func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }

    private static func skipDigits(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> Int {
        var index = start
        while index < bytes.count && isDigit(bytes[index]) { index += 1 }
        return index
    }
}
