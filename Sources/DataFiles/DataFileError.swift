/// An error reading or writing a data file, naming the file and the line it concerns.
public struct DataFileError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A stable, machine-matchable error code; the set is open.
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        /// The code's text, such as `csv.field_count`.
        public let rawValue: String

        /// Creates a code from its text.
        public init(rawValue: String) { self.rawValue = rawValue }

        /// The code's text.
        public var description: String { rawValue }

        /// The file could not be opened.
        public static let openFailed = Code(rawValue: "file.open_failed")
        /// Reading the file failed.
        public static let readFailed = Code(rawValue: "file.read_failed")
        /// Writing or closing the file failed.
        public static let writeFailed = Code(rawValue: "file.write_failed")
        /// A writer was given a file the run needs intact (the store, its log, the rejects file).
        public static let protectedFile = Code(rawValue: "file.protected")
        /// The writer was used after `close()`.
        public static let writerClosed = Code(rawValue: "file.writer_closed")
        /// Bytes that are not valid UTF-8.
        public static let invalidUTF8 = Code(rawValue: "text.invalid_utf8")
        /// A reader or writer option that cannot be used (such as a non-ASCII delimiter).
        public static let invalidOption = Code(rawValue: "file.invalid_option")
        /// A CSV file with no header row.
        public static let csvMissingHeader = Code(rawValue: "csv.missing_header")
        /// A CSV record longer than the reader holds (64 MiB): usually a quote left open.
        public static let csvRecordTooLong = Code(rawValue: "csv.record_too_long")
        /// A CSV row whose field count differs from the header's.
        public static let csvFieldCount = Code(rawValue: "csv.field_count")
        /// A quoted CSV field still open at the end of the file.
        public static let csvUnterminatedQuote = Code(rawValue: "csv.unterminated_quote")
        /// A quote character inside an unquoted CSV field.
        public static let csvQuoteInUnquotedField = Code(rawValue: "csv.quote_in_unquoted_field")
        /// Text between a closing quote and the next delimiter or line end.
        public static let csvTextAfterClosingQuote = Code(rawValue: "csv.text_after_closing_quote")
        /// JSON text that does not follow the grammar.
        public static let jsonSyntax = Code(rawValue: "json.syntax")
        /// JSON nested deeper than the parser's limit.
        public static let jsonTooDeep = Code(rawValue: "json.too_deep")
        /// A `.number` value whose text is not a JSON number.
        public static let jsonInvalidNumber = Code(rawValue: "json.invalid_number")
    }

    /// What went wrong, as a stable code.
    public var code: Code
    /// The file concerned, as the caller named it (`<memory>` for in-memory input).
    public var file: String
    /// The 1-based physical line, when the error concerns a place in the file.
    public var line: Int?
    /// The 1-based column (in characters), when known.
    public var column: Int?
    /// A human-readable explanation without the file and line prefix.
    public var message: String

    /// Creates an error value.
    public init(code: Code, file: String, line: Int? = nil, column: Int? = nil, message: String) {
        self.code = code
        self.file = file
        self.line = line
        self.column = column
        self.message = message
    }

    /// `file:line:column: message`, omitting the parts that are unknown.
    public var description: String {
        var location = file
        if let line {
            location += ":\(line)"
            if let column { location += ":\(column)" }
        }
        return "\(location): \(message)"
    }
}
