/// Where one field lies in the chunk buffer, and whether its bytes need unescaping.
struct CSVFieldSpan {
    /// How the field was written.
    enum Kind: UInt8 {
        case unquoted, quoted, quotedWithDoubledQuotes
    }

    var start: Int
    var end: Int
    var kind: Kind
}

/// A recoverable syntax problem found while scanning a record (the record is still delimited).
struct CSVScanIssue {
    var code: DataFileError.Code
    var offset: Int
    var message: String
}

/// What scanning from a record's first byte found.
enum CSVScanResult {
    /// A complete record ending (after its line terminator) at `end`.
    case record(end: Int, newlines: Int)
    /// The record runs past the bytes read so far.
    case needMoreData
    /// End of input inside a quoted field opened at `openingOffset`.
    case unterminatedQuote(openingOffset: Int)
}

/// Finds record and field boundaries in raw bytes, RFC 4180 style, without creating Strings.
///
/// Scanning always restarts from the record's first byte; a record split across chunks
/// is simply scanned again after a refill, which keeps the scanner free of saved state.
struct CSVRecordScanner {
    static let quote = UInt8(ascii: "\"")
    static let lineFeed = UInt8(ascii: "\n")
    static let carriageReturn = UInt8(ascii: "\r")

    let delimiter: UInt8
    /// The fields of the last scanned record.
    private(set) var spans: [CSVFieldSpan] = []
    /// The first syntax problem in the last scanned record, if any.
    private(set) var issue: CSVScanIssue?

    init(delimiter: UInt8) { self.delimiter = delimiter }

    /// Checks a delimiter option and returns its byte.
    static func delimiterByte(_ delimiter: Character, fileName: String) throws -> UInt8 {
        guard let byte = delimiter.asciiValue, byte != quote,
            byte != lineFeed, byte != carriageReturn
        else {
            throw DataFileError(
                code: .invalidOption, file: fileName,
                message: "delimiter must be one ASCII character other than a quote, CR or LF")
        }
        return byte
    }

    /// Scans one record starting at `start`; `atEnd` says no bytes follow `bytes`.
    mutating func scan(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int, atEnd: Bool) -> CSVScanResult {
        spans.removeAll(keepingCapacity: true)
        issue = nil
        var index = start
        var newlines = 0
        while true {
            if index < bytes.count && bytes[index] == Self.quote {
                guard let next = scanQuoted(bytes, openingAt: index, atEnd: atEnd, newlines: &newlines) else {
                    return atEnd ? .unterminatedQuote(openingOffset: index) : .needMoreData
                }
                index = next
            } else {
                guard let next = scanUnquoted(bytes, from: index, atEnd: atEnd) else { return .needMoreData }
                index = next
            }
            // Sub-scanners only stop at the end of the bytes when no more input follows.
            if index == bytes.count { return .record(end: index, newlines: newlines) }
            if bytes[index] == delimiter {
                index += 1
                continue
            }
            return finishLine(bytes, terminatorAt: index, atEnd: atEnd, newlines: newlines)
        }
    }

    /// Counts line breaks (LF, CRLF or a lone CR) in `bytes[start..<end]`.
    static func countNewlines(in bytes: UnsafeBufferPointer<UInt8>, from start: Int, to end: Int) -> Int {
        var count = 0
        var index = start
        while index < end {
            let byte = bytes[index]
            if byte == lineFeed {
                count += 1
            } else if byte == carriageReturn && (index + 1 >= end || bytes[index + 1] != lineFeed) {
                count += 1
            }
            index += 1
        }
        return count
    }

    /// Completes a record at its CR, LF or CRLF terminator.
    private func finishLine(
        _ bytes: UnsafeBufferPointer<UInt8>, terminatorAt index: Int, atEnd: Bool, newlines: Int
    ) -> CSVScanResult {
        if bytes[index] == Self.lineFeed { return .record(end: index + 1, newlines: newlines + 1) }
        if index + 1 < bytes.count {
            let end = bytes[index + 1] == Self.lineFeed ? index + 2 : index + 1
            return .record(end: end, newlines: newlines + 1)
        }
        // A CR at the end of the bytes read so far may be the first half of a CRLF.
        return atEnd ? .record(end: index + 1, newlines: newlines + 1) : .needMoreData
    }

    /// Scans an unquoted field; returns the index of its terminator, or nil when more data is needed.
    private mutating func scanUnquoted(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int, atEnd: Bool) -> Int? {
        var index = start
        let count = bytes.count
        let delimiter = self.delimiter
        // eight bytes at a time until one of them is a delimiter, quote, CR or LF, then straight
        // to the first such byte (the lowest marked byte of a little-endian word)
        if let base = bytes.baseAddress {
            let raw = UnsafeRawPointer(base)
            let delimiters = Self.repeated(delimiter)
            while index + 8 <= count {
                let word = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: index, as: UInt64.self))
                let marks = Self.bytesEqual(word, delimiters) | Self.bytesEqual(word, Self.lineFeeds)
                    | Self.bytesEqual(word, Self.carriageReturns) | Self.bytesEqual(word, Self.quotes)
                if marks != 0 {
                    index += marks.trailingZeroBitCount >> 3
                    break
                }
                index += 8
            }
        }
        while index < count {
            let byte = bytes[index]
            // Fast path: every byte above '"' except the delimiter is ordinary field content.
            if byte > Self.quote && byte != delimiter {
                index += 1
                continue
            }
            if byte == delimiter || byte == Self.lineFeed || byte == Self.carriageReturn { break }
            if byte == Self.quote && issue == nil {
                issue = CSVScanIssue(
                    code: .csvQuoteInUnquotedField, offset: index,
                    message: "quote character inside an unquoted field (quote the whole field and double inner quotes)")
            }
            index += 1
        }
        if index == count && !atEnd { return nil }
        spans.append(CSVFieldSpan(start: start, end: index, kind: .unquoted))
        return index
    }

    private static let lineFeeds = repeated(lineFeed)
    private static let carriageReturns = repeated(carriageReturn)
    private static let quotes = repeated(quote)

    /// `byte` in each of the eight bytes of a word.
    private static func repeated(_ byte: UInt8) -> UInt64 { UInt64(byte) &* 0x0101_0101_0101_0101 }

    /// The high bit of each byte of `word` that equals the byte `pattern` repeats, set (the
    /// classic zero-byte test); zero when there is none. The lowest set bit is always exact:
    /// the test can also mark a byte above a matching one, never one below.
    @inline(__always)
    private static func bytesEqual(_ word: UInt64, _ pattern: UInt64) -> UInt64 {
        let x = word ^ pattern
        return (x &- 0x0101_0101_0101_0101) & ~x & 0x8080_8080_8080_8080
    }

    /// Scans a quoted field; returns the index after it, or nil when the closing quote was not found.
    private mutating func scanQuoted(
        _ bytes: UnsafeBufferPointer<UInt8>, openingAt opening: Int, atEnd: Bool, newlines: inout Int
    ) -> Int? {
        let contentStart = opening + 1
        let count = bytes.count
        var index = contentStart
        var hasDoubledQuotes = false
        while true {
            while index < count && bytes[index] != Self.quote { index += 1 }
            if index == count { return nil }
            if index + 1 == count && !atEnd { return nil }
            guard index + 1 < count && bytes[index + 1] == Self.quote else { break }
            hasDoubledQuotes = true
            index += 2
        }
        let kind: CSVFieldSpan.Kind = hasDoubledQuotes ? .quotedWithDoubledQuotes : .quoted
        spans.append(CSVFieldSpan(start: contentStart, end: index, kind: kind))
        newlines += Self.countNewlines(in: bytes, from: contentStart, to: index)
        return skipAfterClosingQuote(bytes, from: index + 1, atEnd: atEnd)
    }

    /// Skips (and reports) any text between a closing quote and the field's terminator.
    private mutating func skipAfterClosingQuote(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int, atEnd: Bool)
        -> Int?
    {
        var index = start
        while index < bytes.count {
            let byte = bytes[index]
            if byte == delimiter || byte == Self.lineFeed || byte == Self.carriageReturn { break }
            if issue == nil {
                issue = CSVScanIssue(
                    code: .csvTextAfterClosingQuote, offset: index,
                    message: "unexpected text after a closing quote")
            }
            index += 1
        }
        if index == bytes.count && !atEnd { return nil }
        return index
    }
}
