import Foundation

/// A streaming RFC 4180 CSV reader: the first row names the columns, later rows are records.
///
/// The file is read in chunks (256 KiB by default), never whole. Errors name the file and the
/// physical line the record starts on. After any error about one record (wrong field count,
/// stray quote, invalid UTF-8) the next call to `nextRecord()` continues with the next record.
public struct CSVReader {
    /// How to read the file.
    public struct Options: Sendable {
        /// The field separator; must be a single ASCII character other than a quote, CR or LF.
        public var delimiter: Character
        /// When true, empty unquoted fields are reported as null (quoted `""` stays an empty string).
        public var emptyUnquotedFieldsAreNull: Bool
        /// How many bytes to read at a time.
        public var chunkSize: Int
        /// The longest record read; a longer one is `csv.record_too_long` and ends the file.
        public var maximumRecordBytes = CSVRowSource.maximumRecordBytes

        /// Creates options; the defaults are comma, empty fields as "", and 256 KiB chunks.
        public init(delimiter: Character = ",", emptyUnquotedFieldsAreNull: Bool = false, chunkSize: Int = 256 * 1024) {
            self.delimiter = delimiter
            self.emptyUnquotedFieldsAreNull = emptyUnquotedFieldsAreNull
            self.chunkSize = chunkSize
        }
    }

    /// The column names from the first row.
    public let header: CSVHeader
    private var rows: CSVRowSource

    /// The file name used in errors.
    public let fileName: String

    /// Opens the file at `path` and reads its header row.
    /// - Throws: `DataFileError` with code `file.open_failed`, `csv.missing_header`, or any row error.
    public init(path: String, options: Options = Options()) throws {
        try self.init(source: FileByteSource(path: path), options: options)
    }

    /// Reads CSV text from memory, naming it `fileName` in errors.
    /// - Throws: `DataFileError` with code `csv.missing_header`, or any row error.
    public init(string: String, fileName: String = "<memory>", options: Options = Options()) throws {
        try self.init(source: MemoryByteSource(bytes: Array(string.utf8), fileName: fileName), options: options)
    }

    /// Reads CSV bytes from memory, naming them `fileName` in errors.
    /// - Throws: `DataFileError` with code `csv.missing_header`, or any row error.
    public init(data: Data, fileName: String = "<memory>", options: Options = Options()) throws {
        try self.init(source: MemoryByteSource(bytes: [UInt8](data), fileName: fileName), options: options)
    }

    /// Bytes the scanner went over so far, re-scans included (for tests).
    var scannedBytes: Int { rows.scannedBytes }

    init(source: any ByteSource, options: Options) throws {
        let delimiter = try CSVRecordScanner.delimiterByte(options.delimiter, fileName: source.fileName)
        var rows = CSVRowSource(
            source: source, chunkSize: options.chunkSize, delimiter: delimiter,
            emptyUnquotedFieldsAreNull: options.emptyUnquotedFieldsAreNull, maximumRecordBytes: options.maximumRecordBytes)
        try rows.skipByteOrderMark()
        guard let headerRow = try rows.nextRow() else {
            throw DataFileError(
                code: .csvMissingHeader, file: source.fileName, line: 1,
                message: "file is empty; expected a header row")
        }
        self.header = CSVHeader(names: headerRow.fields)
        self.rows = rows
        fileName = source.fileName
    }

    /// Returns the next record, or nil at the end of the file.
    /// - Throws: `DataFileError` with code `csv.field_count`, `csv.quote_in_unquoted_field`,
    ///   `csv.text_after_closing_quote`, `csv.unterminated_quote`, `text.invalid_utf8` or
    ///   `file.read_failed`. Except for read failures, the bad record is skipped and reading can go on.
    public mutating func nextRecord() throws -> CSVRecord? {
        guard let row = try rows.nextRow() else { return nil }
        guard row.fields.count == header.count else {
            throw DataFileError(
                code: .csvFieldCount, file: fileName, line: row.line,
                message: "row has \(row.fields.count) \(row.fields.count == 1 ? "field" : "fields"), "
                    + "header has \(header.count)")
        }
        return CSVRecord(fields: row.fields, line: row.line, header: header, nullFieldIndexes: row.nullFieldIndexes)
    }

    /// Reads the next record field by field: `visit` gets each field's index and UTF-8 bytes
    /// (valid UTF-8, quotes already undone; only valid during the call) and whether it is null.
    /// Returns the record's line, or nil at the end of the file. Errors as `nextRecord()`; a
    /// row with the wrong number of fields is refused before any field is visited.
    public mutating func nextRecord(visit: (_ index: Int, _ bytes: UnsafeBufferPointer<UInt8>, _ isNull: Bool) -> Void) throws -> Int? {
        let expected = header.count
        let fileName = self.fileName
        return try rows.nextRow(check: { count, line in
            guard count == expected else {
                throw DataFileError(
                    code: .csvFieldCount, file: fileName, line: line,
                    message: "row has \(count) \(count == 1 ? "field" : "fields"), header has \(expected)")
            }
        }, visit: visit)
    }

    /// Reads all remaining records, stopping at the first error (convenient for small files and tests).
    /// - Throws: the first `DataFileError` met; see `nextRecord()`.
    public mutating func readAll() throws -> [CSVRecord] {
        var records: [CSVRecord] = []
        while let record = try nextRecord() { records.append(record) }
        return records
    }
}
