/// One delimited CSV row as Strings, before it is checked against the header.
struct CSVRawRow {
    var fields: [String]
    var line: Int
    var nullFieldIndexes: [Int]
}

/// Turns a byte source into CSV rows: drives the chunk buffer and the scanner, tracks
/// physical line numbers, and creates one String per field.
struct CSVRowSource {
    private var buffer: ChunkBuffer
    private var scanner: CSVRecordScanner
    private let emptyUnquotedFieldsAreNull: Bool
    /// Reused storage for fields whose doubled quotes must be collapsed.
    private var unescapeScratch: [UInt8] = []
    /// The physical line the next record starts on.
    private(set) var line = 1

    var fileName: String { buffer.fileName }

    /// The longest record read (bytes, quotes and line breaks included); a longer one is an
    /// error that ends the file (`csv.record_too_long`), so memory stays bounded.
    static let maximumRecordBytes = 64 << 20
    private static func describe(bytes: Int) -> String {
        bytes >= 1 << 20 && bytes % (1 << 20) == 0 ? "\(bytes >> 20) MiB" : "\(bytes) bytes"
    }

    /// Records from this size on are read on until they have doubled before being scanned again.
    static let largeRecordBytes = 64 << 10

    private let maximumRecordBytes: Int

    init(source: any ByteSource, chunkSize: Int, delimiter: UInt8, emptyUnquotedFieldsAreNull: Bool,
         maximumRecordBytes: Int = Self.maximumRecordBytes) {
        self.maximumRecordBytes = maximumRecordBytes
        self.buffer = ChunkBuffer(source: source, chunkSize: chunkSize)
        self.scanner = CSVRecordScanner(delimiter: delimiter)
        self.emptyUnquotedFieldsAreNull = emptyUnquotedFieldsAreNull
    }

    /// Skips a UTF-8 byte order mark at the very start of the input.
    mutating func skipByteOrderMark() throws {
        try buffer.skipByteOrderMark()
    }

    /// Returns the next non-blank row, or nil at end of input.
    ///
    /// A row with a syntax problem or invalid UTF-8 is consumed before its error is thrown,
    /// so the next call continues with the following row.
    mutating func nextRow() throws -> CSVRawRow? {
        guard let record = try nextScannedRecord() else { return nil }
        return try makeRow(buffer.storage, start: record.start, end: record.end, line: record.line)
    }

    /// Scans up to the next non-blank record (its spans are then in `scanner`); nil at the end.
    /// - Throws: an unterminated quote, after consuming the rest of the input.
    private mutating func nextScannedRecord() throws -> (start: Int, end: Int, line: Int)? {
        while true {
            if buffer.start == buffer.end {
                guard try buffer.refill() else { return nil }
            }
            let start = buffer.start
            switch scanRecord() {
            case .needMoreData:
                let pending = buffer.end - buffer.start
                if pending >= maximumRecordBytes {
                    // a quote left open runs to the end of the file: stop before holding it all
                    let recordLine = line
                    buffer.discardToEnd()
                    throw DataFileError(
                        code: .csvRecordTooLong, file: fileName, line: recordLine,
                        message: "the record starting here is longer than \(Self.describe(bytes: maximumRecordBytes)); "
                            + "is a quote left open? (the rest of the file is not read)")
                }
                // a record scanned again after each read: from a pipe, reads bring 64 KiB at
                // most, so a large record is read on until it has doubled (or the input
                // ends), which keeps the scans linear in its length
                _ = try buffer.refill(toAtLeast: pending >= Self.largeRecordBytes ? 2 * pending : 0)
            case .unterminatedQuote(let opening):
                let openingLine = line + newlines(in: buffer.storage, from: start, to: opening)
                buffer.start = buffer.end
                throw DataFileError(
                    code: .csvUnterminatedQuote, file: fileName, line: openingLine,
                    message: "quoted field is not closed before the end of the file")
            case .record(let recordEnd, let newlineCount):
                let recordLine = line
                buffer.start = recordEnd
                line += newlineCount
                if isBlankLine() { continue }
                return (start, recordEnd, recordLine)
            }
        }
    }

    /// Bytes the scanner went over, scans of a record begun again after a refill included (for
    /// tests: reading a file is linear in its size).
    private(set) var scannedBytes = 0

    /// Scans the record at the buffer's start; the storage copy is released before any refill.
    private mutating func scanRecord() -> CSVScanResult {
        let storage = buffer.storage
        let start = buffer.start
        let end = buffer.end
        scannedBytes += end - start
        let atEnd = buffer.isAtEndOfInput
        return storage.withUnsafeBufferPointer { all in
            scanner.scan(UnsafeBufferPointer(rebasing: all[0..<end]), from: start, atEnd: atEnd)
        }
    }

    /// True when the last record was an empty line (one empty unquoted field, no problems).
    private func isBlankLine() -> Bool {
        let spans = scanner.spans
        return spans.count == 1 && spans[0].kind == .unquoted && spans[0].start == spans[0].end
            && scanner.issue == nil
    }

    private func newlines(in storage: [UInt8], from start: Int, to end: Int) -> Int {
        storage.withUnsafeBufferPointer { CSVRecordScanner.countNewlines(in: $0, from: start, to: end) }
    }

    /// Like `nextRow()`, but hands each field's UTF-8 bytes to `visit` instead of creating
    /// Strings; `check` sees the field count first and may throw to refuse the row (nothing
    /// is visited then). Returns the row's line, or nil at the end of input.
    mutating func nextRow(check: (Int, Int) throws -> Void,
                          visit: (_ index: Int, _ bytes: UnsafeBufferPointer<UInt8>, _ isNull: Bool) -> Void) throws -> Int? {
        guard let record = try nextScannedRecord() else { return nil }
        try checkRecord(buffer.storage, start: record.start, end: record.end, line: record.line)
        try check(scanner.spans.count, record.line)
        let storage = buffer.storage
        storage.withUnsafeBufferPointer { all in
            for (index, span) in scanner.spans.enumerated() {
                let bytes = UnsafeBufferPointer(rebasing: all[span.start..<span.end])
                if span.kind == .quotedWithDoubledQuotes {
                    collapseDoubledQuotesBytes(bytes)
                    unescapeScratch.withUnsafeBufferPointer { visit(index, $0, false) }
                } else {
                    visit(index, bytes, emptyUnquotedFieldsAreNull && span.kind == .unquoted && bytes.isEmpty)
                }
            }
        }
        return record.line
    }

    /// Throws the scanned record's syntax problem or invalid UTF-8, naming its line.
    private func checkRecord(_ storage: [UInt8], start: Int, end: Int, line: Int) throws {
        if let issue = scanner.issue {
            throw DataFileError(
                code: issue.code, file: fileName,
                line: line + newlines(in: storage, from: start, to: issue.offset), message: issue.message)
        }
        let invalidOffset = storage.withUnsafeBufferPointer { all in
            UTF8Validation.firstInvalidOffset(in: UnsafeBufferPointer(rebasing: all[start..<end]))
        }
        if let invalidOffset {
            throw DataFileError(
                code: .invalidUTF8, file: fileName,
                line: line + newlines(in: storage, from: start, to: start + invalidOffset),
                message: "invalid UTF-8 byte sequence")
        }
    }

    /// Checks the scanned record and creates its field Strings.
    private mutating func makeRow(_ storage: [UInt8], start: Int, end: Int, line: Int) throws -> CSVRawRow {
        try checkRecord(storage, start: start, end: end, line: line)
        var fields: [String] = []
        fields.reserveCapacity(scanner.spans.count)
        var nullFieldIndexes: [Int] = []
        storage.withUnsafeBufferPointer { all in
            for span in scanner.spans {
                let bytes = UnsafeBufferPointer(rebasing: all[span.start..<span.end])
                if span.kind == .quotedWithDoubledQuotes {
                    fields.append(collapseDoubledQuotes(bytes))
                } else {
                    if emptyUnquotedFieldsAreNull && span.kind == .unquoted && bytes.isEmpty {
                        nullFieldIndexes.append(fields.count)
                    }
                    fields.append(String(decoding: bytes, as: UTF8.self))
                }
            }
        }
        return CSVRawRow(fields: fields, line: line, nullFieldIndexes: nullFieldIndexes)
    }

    /// Decodes a quoted field's content, turning each `""` into `"`.
    private mutating func collapseDoubledQuotes(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
        collapseDoubledQuotesBytes(bytes)
        return String(decoding: unescapeScratch, as: UTF8.self)
    }

    /// Leaves a quoted field's content in `unescapeScratch`, each `""` turned into `"`.
    private mutating func collapseDoubledQuotesBytes(_ bytes: UnsafeBufferPointer<UInt8>) {
        unescapeScratch.removeAll(keepingCapacity: true)
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            unescapeScratch.append(byte)
            index += byte == CSVRecordScanner.quote ? 2 : 1
        }
    }
}
