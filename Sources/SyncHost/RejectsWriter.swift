import DataFiles
import Foundation

/// Writes rejected records to a file: CSV when the name ends in `.csv`, JSON lines otherwise.
/// Columns: source, line (script line), key, code, message.
final class RejectsWriter {
    private let csv: CSVWriter?
    private let jsonLines: JSONLinesWriter?
    private(set) var count = 0
    let path: String

    init(path: String) throws {
        self.path = path
        if path.lowercased().hasSuffix(".csv") {
            csv = try CSVWriter(path: path)
            jsonLines = nil
            try csv?.writeRow(["source", "script_line", "key", "code", "message"])
        } else {
            csv = nil
            jsonLines = try JSONLinesWriter(path: path)
        }
    }

    func write(_ failure: RowFailure) throws {
        try write(source: failure.source ?? "", line: failure.line, key: failure.key, code: failure.error.code.value,
                  message: failure.error.message)
    }

    func write(source: String, line: Int, key: String, code: String, message: String) throws {
        count += 1
        if let csv {
            try csv.writeRow([source, String(line), key, code, message])
        } else {
            let object: JSONValue = .object([("source", .string(source)), ("script_line", .number(String(line))),
                                             ("key", .string(key)), ("code", .string(code)), ("message", .string(message))])
            try jsonLines?.write(object)
        }
    }

    func close() throws {
        try csv?.close()
        try jsonLines?.close()
    }
}
