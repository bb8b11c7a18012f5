import Foundation

/// A buffered CSV writer that quotes a field only when it must.
///
/// A field is quoted when it contains the delimiter, a quote, CR or LF; inner quotes are
/// doubled. A row made of a single empty field is written as `""` so it does not read back
/// as a blank line. Call `close()` to write the last buffered bytes and release the file.
public final class CSVWriter {
    /// How rows are ended.
    public enum LineEnding: Sendable {
        /// CR LF, as RFC 4180 specifies.
        case crlf
        /// A bare LF.
        case lf
    }

    /// How to write the file.
    public struct Options: Sendable {
        /// The field separator; must be a single ASCII character other than a quote, CR or LF.
        public var delimiter: Character
        /// How rows are ended.
        public var lineEnding: LineEnding

        /// Creates options; the defaults are comma and CRLF.
        public init(delimiter: Character = ",", lineEnding: LineEnding = .crlf) {
            self.delimiter = delimiter
            self.lineEnding = lineEnding
        }
    }

    private let sink: OutputSink
    private let encoder: CSVRowEncoder

    /// Creates (or truncates) the file at `path`.
    /// - Throws: `DataFileError` with code `file.open_failed` or `file.invalid_option`.
    public convenience init(path: String, options: Options = Options()) throws {
        let delimiter = try CSVRecordScanner.delimiterByte(options.delimiter, fileName: path)
        try self.init(sink: OutputSink(path: path), delimiter: delimiter, options: options)
    }

    /// Creates a writer that keeps its output in memory; read it with `writtenData`.
    /// - Throws: `DataFileError` with code `file.invalid_option`.
    public convenience init(options: Options = Options()) throws {
        let delimiter = try CSVRecordScanner.delimiterByte(options.delimiter, fileName: "<memory>")
        self.init(sink: OutputSink(inMemoryName: "<memory>"), delimiter: delimiter, options: options)
    }

    private init(sink: OutputSink, delimiter: UInt8, options: Options) {
        self.sink = sink
        let lineEnding: [UInt8] = options.lineEnding == .crlf ? [0x0D, 0x0A] : [0x0A]
        self.encoder = CSVRowEncoder(delimiter: delimiter, lineEnding: lineEnding)
    }

    /// The bytes written so far by an in-memory writer (empty for file writers).
    public var writtenData: Data { Data(sink.memoryContents) }

    /// Writes one row.
    /// - Throws: `DataFileError` with code `file.write_failed` or `file.writer_closed`.
    public func writeRow(_ fields: [String]) throws {
        try sink.checkOpen()
        // One access to the buffer per row; per-byte class property access is slow.
        encoder.append(fields, to: &sink.pending)
        try sink.flushIfFull()
    }

    /// Writes buffered bytes to the file.
    /// - Throws: `DataFileError` with code `file.write_failed`.
    public func flush() throws { try sink.flush() }

    /// Flushes and closes the file; further writes throw. Closing twice is allowed.
    /// - Throws: `DataFileError` with code `file.write_failed`.
    public func close() throws { try sink.close() }
}

/// Encodes rows as CSV bytes with minimal quoting.
struct CSVRowEncoder {
    let delimiter: UInt8
    let lineEnding: [UInt8]

    /// Appends one row and its line ending.
    func append(_ fields: [String], to output: inout [UInt8]) {
        if fields.count == 1 && fields[0].isEmpty {
            output.append(contentsOf: [CSVRecordScanner.quote, CSVRecordScanner.quote])
        } else {
            for (index, field) in fields.enumerated() {
                if index > 0 { output.append(delimiter) }
                appendField(field, to: &output)
            }
        }
        output.append(contentsOf: lineEnding)
    }

    private func appendField(_ field: String, to output: inout [UInt8]) {
        var field = field
        field.withUTF8 { bytes in
            if needsQuoting(bytes) {
                appendQuoted(bytes, to: &output)
            } else {
                output.append(contentsOf: bytes)
            }
        }
    }

    private func needsQuoting(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        for byte in bytes where byte <= CSVRecordScanner.quote || byte == delimiter {
            if byte == delimiter || byte == CSVRecordScanner.quote || byte == CSVRecordScanner.lineFeed
                || byte == CSVRecordScanner.carriageReturn
            {
                return true
            }
        }
        return false
    }

    private func appendQuoted(_ bytes: UnsafeBufferPointer<UInt8>, to output: inout [UInt8]) {
        output.append(CSVRecordScanner.quote)
        for byte in bytes {
            if byte == CSVRecordScanner.quote { output.append(CSVRecordScanner.quote) }
            output.append(byte)
        }
        output.append(CSVRecordScanner.quote)
    }
}
