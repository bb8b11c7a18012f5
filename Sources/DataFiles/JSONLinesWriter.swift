import Foundation

/// A buffered JSON lines writer: one compact JSON value per line, LF-terminated,
/// object keys in the order given.
public final class JSONLinesWriter {
    private let sink: OutputSink
    private let serializer: JSONSerializer

    /// Creates (or truncates) the file at `path`; `escapeNonASCII` writes non-ASCII text as `\u` escapes.
    /// - Throws: `DataFileError` with code `file.open_failed`.
    public init(path: String, escapeNonASCII: Bool = false) throws {
        self.sink = try OutputSink(path: path)
        self.serializer = JSONSerializer(pretty: false, escapeNonASCII: escapeNonASCII, fileName: path)
    }

    /// Creates a writer that keeps its output in memory; read it with `writtenData`.
    public init(escapeNonASCII: Bool = false) {
        self.sink = OutputSink(inMemoryName: "<memory>")
        self.serializer = JSONSerializer(pretty: false, escapeNonASCII: escapeNonASCII, fileName: "<memory>")
    }

    /// The bytes written so far by an in-memory writer (empty for file writers).
    public var writtenData: Data { Data(sink.memoryContents) }

    /// Writes one value as one line; a value that cannot be serialised writes nothing.
    /// - Throws: `DataFileError` with code `json.invalid_number`, `file.write_failed` or `file.writer_closed`.
    public func write(_ value: JSONValue) throws {
        try sink.checkOpen()
        let mark = sink.pending.count
        do {
            try serializer.append(value, to: &sink.pending)
        } catch {
            sink.pending.removeSubrange(mark...)
            throw error
        }
        sink.pending.append(UInt8(ascii: "\n"))
        try sink.flushIfFull()
    }

    /// True when the writer escapes non-ASCII text (`JSONText` writes it as it is).
    public var escapesNonASCII: Bool { serializer.escapeNonASCII }

    /// Writes one line that `build` appends as JSON text (see `JSONText`); when `build` throws,
    /// nothing of the line is written. The caller is responsible for the text being one valid
    /// compact JSON value.
    /// - Throws: what `build` throws, `file.write_failed` or `file.writer_closed`.
    public func writeLine(_ build: (inout [UInt8]) throws -> Void) throws {
        try sink.checkOpen()
        let mark = sink.pending.count
        do {
            try build(&sink.pending)
        } catch {
            sink.pending.removeSubrange(mark...)
            throw error
        }
        sink.pending.append(UInt8(ascii: "\n"))
        try sink.flushIfFull()
    }

    /// Writes buffered bytes to the file.
    /// - Throws: `DataFileError` with code `file.write_failed`.
    public func flush() throws { try sink.flush() }

    /// Flushes and closes the file; further writes throw. Closing twice is allowed.
    /// - Throws: `DataFileError` with code `file.write_failed`.
    public func close() throws { try sink.close() }
}
