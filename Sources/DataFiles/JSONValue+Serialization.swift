import Foundation

extension JSONValue {
    /// Parses one JSON document from UTF-8 bytes (a leading byte order mark is skipped).
    /// - Throws: `DataFileError` with code `json.syntax`, `json.too_deep` or `text.invalid_utf8`,
    ///   naming the line and column.
    public static func parse(_ data: Data, fileName: String = "<memory>", maxDepth: Int = defaultMaxDepth) throws
        -> JSONValue
    {
        try data.withUnsafeBytes { raw in
            try JSONParser.parse(raw.bindMemory(to: UInt8.self), fileName: fileName, maxDepth: maxDepth)
        }
    }

    /// Parses one JSON document from text.
    /// - Throws: `DataFileError` with code `json.syntax` or `json.too_deep`, naming the line and column.
    public static func parse(_ text: String, fileName: String = "<memory>", maxDepth: Int = defaultMaxDepth) throws
        -> JSONValue
    {
        var text = text
        return try text.withUTF8 { bytes in
            try JSONParser.parse(bytes, fileName: fileName, maxDepth: maxDepth)
        }
    }

    /// Reads and parses the JSON document in the file at `path`.
    /// - Throws: `DataFileError` with code `file.open_failed`, `file.read_failed`, or a parse error code.
    public static func parse(contentsOfFile path: String, maxDepth: Int = defaultMaxDepth) throws -> JSONValue {
        var buffer = ChunkBuffer(source: try FileByteSource(path: path), chunkSize: 256 * 1024)
        while try buffer.refill() {}
        let storage = buffer.storage
        let end = buffer.end
        return try storage.withUnsafeBufferPointer { all in
            try JSONParser.parse(UnsafeBufferPointer(rebasing: all[0..<end]), fileName: path, maxDepth: maxDepth)
        }
    }

    /// The JSON text: compact, or indented by two spaces when `pretty`; non-ASCII as `\u` escapes when asked.
    /// - Throws: `DataFileError` with code `json.invalid_number` when a `.number` holds invalid text.
    public func serialized(pretty: Bool = false, escapeNonASCII: Bool = false) throws -> String {
        String(decoding: try serializedBytes(pretty: pretty, escapeNonASCII: escapeNonASCII), as: UTF8.self)
    }

    /// The JSON text as UTF-8 data; see `serialized(pretty:escapeNonASCII:)`.
    /// - Throws: `DataFileError` with code `json.invalid_number` when a `.number` holds invalid text.
    public func serializedData(pretty: Bool = false, escapeNonASCII: Bool = false) throws -> Data {
        Data(try serializedBytes(pretty: pretty, escapeNonASCII: escapeNonASCII))
    }

    private func serializedBytes(pretty: Bool, escapeNonASCII: Bool) throws -> [UInt8] {
        var output: [UInt8] = []
        let serializer = JSONSerializer(pretty: pretty, escapeNonASCII: escapeNonASCII, fileName: "<value>")
        try serializer.append(self, to: &output)
        return output
    }
}
