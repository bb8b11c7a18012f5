import Foundation

/// One parsed line of a JSON lines file.
public struct JSONLineRecord: Sendable {
    /// The parsed value.
    public let value: JSONValue
    /// The 1-based physical line it came from.
    public let line: Int
}

/// A streaming JSON lines reader: one JSON value per line, blank lines skipped.
///
/// Lines end with LF or CRLF. A line that fails to parse throws an error naming its line;
/// the next call continues with the following line.
public struct JSONLinesReader {
    private var buffer: ChunkBuffer
    private let maxDepth: Int
    /// The physical line number of the next line.
    private var nextLine = 1

    /// The file name used in errors.
    public var fileName: String { buffer.fileName }

    /// Opens the file at `path`.
    /// - Throws: `DataFileError` with code `file.open_failed`.
    public init(path: String, maxDepth: Int = JSONValue.defaultMaxDepth, chunkSize: Int = 256 * 1024) throws {
        self.init(source: try FileByteSource(path: path), maxDepth: maxDepth, chunkSize: chunkSize)
    }

    /// Reads JSON lines from memory, naming them `fileName` in errors.
    public init(
        string: String, fileName: String = "<memory>", maxDepth: Int = JSONValue.defaultMaxDepth,
        chunkSize: Int = 256 * 1024
    ) {
        let source = MemoryByteSource(bytes: Array(string.utf8), fileName: fileName)
        self.init(source: source, maxDepth: maxDepth, chunkSize: chunkSize)
    }

    /// Reads JSON lines from bytes in memory, naming them `fileName` in errors.
    public init(
        data: Data, fileName: String = "<memory>", maxDepth: Int = JSONValue.defaultMaxDepth,
        chunkSize: Int = 256 * 1024
    ) {
        let source = MemoryByteSource(bytes: [UInt8](data), fileName: fileName)
        self.init(source: source, maxDepth: maxDepth, chunkSize: chunkSize)
    }

    private init(source: any ByteSource, maxDepth: Int, chunkSize: Int) {
        self.buffer = ChunkBuffer(source: source, chunkSize: chunkSize)
        self.maxDepth = maxDepth
    }

    /// Returns the next non-blank line's value, or nil at the end of the file.
    /// - Throws: `DataFileError` with code `json.syntax`, `json.too_deep`, `text.invalid_utf8`
    ///   (the bad line is skipped, so reading can go on) or `file.read_failed`.
    public mutating func nextRecord() throws -> JSONLineRecord? {
        if nextLine == 1 { try buffer.skipByteOrderMark() }
        while let range = try nextLineRange() {
            let line = nextLine
            nextLine += 1
            let storage = buffer.storage
            let fileName = self.fileName
            let maxDepth = self.maxDepth
            let value = try storage.withUnsafeBufferPointer { all -> JSONValue? in
                let bytes = UnsafeBufferPointer(rebasing: all[range])
                guard !Self.isBlank(bytes) else { return nil }
                return try JSONParser.parse(bytes, fileName: fileName, firstLine: line, maxDepth: maxDepth)
            }
            if let value { return JSONLineRecord(value: value, line: line) }
        }
        return nil
    }

    /// Reads all remaining values, stopping at the first error.
    /// - Throws: the first `DataFileError` met; see `nextRecord()`.
    public mutating func readAll() throws -> [JSONValue] {
        var values: [JSONValue] = []
        while let record = try nextRecord() { values.append(record.value) }
        return values
    }

    /// Finds the next line (without its LF or CRLF) and consumes it; nil at end of input.
    /// The range stays valid until the buffer is refilled.
    private mutating func nextLineRange() throws -> Range<Int>? {
        var searched = 0
        while true {
            let searchStart = buffer.start + searched
            let newline = buffer.storage.withUnsafeBufferPointer { all in
                all[searchStart..<buffer.end].firstIndex(of: UInt8(ascii: "\n"))
            }
            if let newline {
                let range = buffer.start..<trimmingCarriageReturn(newline)
                buffer.start = newline + 1
                return range
            }
            searched = buffer.end - buffer.start
            guard try buffer.refill() else { break }
        }
        guard buffer.start < buffer.end else { return nil }
        let range = buffer.start..<trimmingCarriageReturn(buffer.end)
        buffer.start = buffer.end
        return range
    }

    /// Moves a line's end back over a CR that precedes it.
    private func trimmingCarriageReturn(_ end: Int) -> Int {
        end > buffer.start && buffer.storage[end - 1] == UInt8(ascii: "\r") ? end - 1 : end
    }

    private static func isBlank(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        bytes.allSatisfy { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") || $0 == UInt8(ascii: "\r") }
    }
}
