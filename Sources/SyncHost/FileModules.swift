import DataFiles
import EntityModel
import Foundation
import LuaKit

/// `csv.rows(path)` reader state.
final class CSVRowsObject: RowSourceObject {
    static let luaTypeName = "csv.Rows"
    var reader: CSVReader?
    let fileName: String
    /// The header's names, set on every row. A name the header gives again is the field
    /// `NAME_2`, `NAME_3`… (the first free one), so no column is out of reach; the first
    /// keeps the name, as `csv.keys` reads it.
    let names: FixedNames
    /// The session whose `currentSource` this loop sets; given back when the loop ends or breaks.
    weak var session: SyncSession?
    var outerSource: SourcePosition??
    init(reader: CSVReader, fileName: String) {
        self.reader = reader
        self.fileName = fileName
        names = FixedNames(Self.distinctNames(reader.header.names))
    }

    /// `names` with each repeated name given a suffix: `_2`, `_3`… not in the header already.
    static func distinctNames(_ names: [String]) -> [String] {
        var taken = Set(names)
        var seen = Set<String>()
        return names.map { name in
            guard seen.insert(name).inserted else {
                var number = 2
                while taken.contains("\(name)_\(number)") { number += 1 }
                taken.insert("\(name)_\(number)")
                return "\(name)_\(number)"
            }
            return name
        }
    }
    func dropReader() { reader = nil }
}

/// A file a loop reads row by row (`csv.rows`, `json.lines`): while the loop runs, the
/// session's `currentSource` names the file and the row, for errors. Closing the loop drops
/// the reader and gives back the source that was current before it (an outer loop's row, or
/// none); an error leaving the loop keeps the source (the row being read) for the run's
/// error to name, and marks it so that no later loop takes it for an outer loop's row.
protocol RowSourceObject: LuaObject {
    /// The session whose `currentSource` the loop sets.
    var session: SyncSession? { get }
    /// The source that was current when the loop read its first row (an outer loop's row, or
    /// none), given back when the loop ends; nil until the first row.
    var outerSource: SourcePosition?? { get set }
    /// Closes the file.
    func dropReader()
}

extension RowSourceObject {
    /// Makes `position` the session's source, noting the outer one at the first row.
    func enter(_ position: SourcePosition, _ session: SyncSession) {
        if outerSource == nil { outerSource = .some(session.sourceLeftByError ? nil : session.currentSource) }
        session.currentSource = position
        session.sourceLeftByError = false  // (the source is this row now, not a loop's an error left)
    }

    /// Gives back the source that was current before the loop's first row (a loop nested in
    /// another one leaves the outer loop's row as the source, for its rejects and errors).
    func leave(_ session: SyncSession) {
        if let outer = outerSource { session.currentSource = outer }
    }

    func luaClose() {
        dropReader()
        if let session { leave(session) }
    }

    func luaClose(afterError: Bool) {
        guard afterError else { return luaClose() }
        dropReader()
        session?.sourceLeftByError = true
    }
}

/// A file a script writes (`csv.writer`, `json.writer`). Its last bytes are written when it
/// closes: `w:close()` and `<close>` raise a failure to write them, and a writer closed where
/// nothing can raise (collected, or never closed) leaves its failure to the end of the run
/// (`OutputFiles`), so a full disk never loses the end of a file without an error.
protocol ScriptOutput: AnyObject {
    /// Flushes and closes the file; nothing when it is already closed.
    func closeOutput() throws
}

/// A file writer `ScriptWriter` objects hold.
protocol ClosableFile: AnyObject {
    func close() throws
}

extension CSVWriter: ClosableFile {}
extension JSONLinesWriter: ClosableFile {}

/// A writer object handed to scripts, holding the file it writes (nil once closed).
protocol ScriptWriter: LuaObject, ScriptOutput {
    associatedtype File: ClosableFile
    var writer: File? { get set }
}

extension ScriptWriter {
    func closeOutput() throws {
        let writer = self.writer
        self.writer = nil
        try writer?.close()
    }
}

/// The files a run's script writes: closed at the end of the run, which fails if one of them
/// (or one closed on collection meanwhile) could not be written out.
final class OutputFiles {
    private final class Entry {
        weak var output: ScriptOutput?
        init(_ output: ScriptOutput) { self.output = output }
    }
    private var entries: [Entry] = []
    private var failures: [Error] = []

    /// Keeps track of a file the script opened.
    func opened(_ output: ScriptOutput) {
        entries.removeAll { $0.output == nil }
        entries.append(Entry(output))
    }

    /// Closes a file where nothing can raise (`__gc`), keeping a failure for `closeAll`.
    func closeQuietly(_ output: ScriptOutput) {
        do { try output.closeOutput() } catch { failures.append(error) }
    }

    /// Closes every file still open, in the order they were opened.
    /// - Throws: the first failure to write one out, here or where it was closed quietly.
    func closeAll() throws {
        for entry in entries {
            guard let output = entry.output else { continue }
            do { try output.closeOutput() } catch { failures.append(error) }
        }
        entries.removeAll()
        if let first = failures.first {
            failures.removeAll()
            throw first
        }
    }
}

/// `csv.writer(path, header)` writer state.
final class CSVWriterObject: ScriptWriter {
    static let luaTypeName = "csv.Writer"
    var writer: CSVWriter?
    let header: [String]
    private let outputs: OutputFiles
    init(writer: CSVWriter, header: [String], outputs: OutputFiles) {
        self.writer = writer
        self.header = header
        self.outputs = outputs
        outputs.opened(self)
    }
    func luaClose() { outputs.closeQuietly(self) }
}

/// `json.lines(path)` reader state.
final class JSONLinesObject: RowSourceObject {
    static let luaTypeName = "json.Lines"
    var reader: JSONLinesReader?
    let fileName: String
    /// The session whose `currentSource` this loop sets; given back when the loop ends or breaks.
    weak var session: SyncSession?
    var outerSource: SourcePosition??
    init(reader: JSONLinesReader, fileName: String) {
        self.reader = reader
        self.fileName = fileName
    }
    func dropReader() { reader = nil }
}

/// `json.writer(path)` writer state.
final class JSONWriterObject: ScriptWriter {
    static let luaTypeName = "json.Writer"
    var writer: JSONLinesWriter?
    /// The buffers its lines are built in, kept from line to line.
    let scratch = JSONWriteScratch()
    private let outputs: OutputFiles
    init(writer: JSONLinesWriter, outputs: OutputFiles) {
        self.writer = writer
        self.outputs = outputs
        outputs.opened(self)
    }
    func luaClose() { outputs.closeQuietly(self) }
}

extension DataFileError {
    /// `file:line: message [code]`, as a run's error line shows it.
    var withCode: String { "\(description) [\(code.rawValue)]" }

    /// A Lua error for text that is not UTF-8, which a value or a file cannot hold unrepaired
    /// (repaired, two different strings could become one key).
    static func invalidText(_ message: String) -> LuaError {
        LuaError.structured(code: Code.invalidUTF8.rawValue, message: message)
    }
}

/// The `csv` and `json` modules: fast Swift readers and writers exposed to Lua.
enum FileModules {
    static func register(_ lua: LuaState, _ session: SyncSession) {
        lua.registerObjectType(CSVRowsObject.self, next: CdsModule.guarded { ctx in try nextCSVRow(ctx, session) })
        lua.registerObjectType(CSVWriterObject.self, methods: [
            "write": CdsModule.guarded { ctx in try writeCSVRow(ctx) },
            "close": CdsModule.guarded { ctx in try closeWriter(ctx, CSVWriterObject.self) },
        ], metamethods: ["__close": CdsModule.guarded { ctx in try closeWriter(ctx, CSVWriterObject.self) }])
        lua.registerObjectType(JSONLinesObject.self, next: CdsModule.guarded { ctx in try nextJSONLine(ctx, session) })
        lua.registerObjectType(JSONWriterObject.self, methods: [
            "write": CdsModule.guarded { ctx in
                let object = try ctx.objectArgument(1, as: JSONWriterObject.self)
                guard let writer = object.writer else {
                    throw LuaError.structured(code: DataFileError.Code.writerClosed.rawValue, message: "the JSON writer is closed")
                }
                // a full disk is file.write_failed, as closing the writer reports it
                try fileOperation("") {
                    if writer.escapesNonASCII {
                        try writer.write(try JSONBridge.json(ctx, at: 2, depth: 0))
                    } else {
                        try writer.writeLine { output in try JSONBridge.write(ctx, at: 2, depth: 0, into: &output, scratch: object.scratch) }
                    }
                }
                return 0
            },
            "close": CdsModule.guarded { ctx in try closeWriter(ctx, JSONWriterObject.self) },
        ], metamethods: ["__close": CdsModule.guarded { ctx in try closeWriter(ctx, JSONWriterObject.self) }])
        lua.register(module: "csv", name: "rows", CdsModule.guarded { ctx in
            let path = try ctx.nameArgument(1, what: "path")
            let options = try csvOptions(ctx, argument: 2)
            let fileName = (path as NSString).lastPathComponent
            let reader: CSVReader
            do {
                reader = try CSVReader(path: path, options: options)
            } catch let error as DataFileError where error.code.rawValue.hasPrefix("csv") && error.code != .csvMissingHeader {
                // a header that cannot be read is reported as a bad row is (and as `csv.keys` does)
                let source = "\(fileName):\(error.line ?? 1)"
                throw LuaError.structured(code: "csv.malformed", message: "\(source): \(error.message)", fields: ["source": .string(source)])
            } catch let error as DataFileError {
                throw LuaError.structured(code: error.code.rawValue, message: error.description)
            }
            let rows = CSVRowsObject(reader: reader, fileName: fileName)
            rows.session = session
            return try ctx.returnIterator(over: rows)
        })
        lua.register(module: "csv", name: "writer", CdsModule.guarded { ctx in
            let path = try ctx.nameArgument(1, what: "path")
            let header = ctx.value(at: try ctx.tableArgument(2)).arrayStrings ?? []
            guard !header.isEmpty else { throw LuaError.argument(2, "a non-empty array of column names expected") }
            try refuseProtected(path, "csv.writer", session)
            let writer = try fileOperation(path) { try CSVWriter(path: path) }
            try writer.writeRow(header)
            ctx.push(object: CSVWriterObject(writer: writer, header: header, outputs: session.outputs))
            return 1
        })
        registerJSON(lua, session)
    }

    /// Refuses a writer for a file the run needs intact: opening it would truncate it.
    private static func refuseProtected(_ path: String, _ function: String, _ session: SyncSession) throws {
        guard let what = session.protectedFiles.what(path) else { return }
        throw LuaError.structured(code: DataFileError.Code.protectedFile.rawValue,
                                  message: "\(function) cannot write \(path): it is \(what), which writing would destroy while the run uses it")
    }

    private static func registerJSON(_ lua: LuaState, _ session: SyncSession) {
        lua.register(module: "json", name: "lines", CdsModule.guarded { ctx in
            let path = try ctx.nameArgument(1, what: "path")
            let reader = try fileOperation(path) { try JSONLinesReader(path: path) }
            let lines = JSONLinesObject(reader: reader, fileName: (path as NSString).lastPathComponent)
            lines.session = session
            return try ctx.returnIterator(over: lines)
        })
        lua.register(module: "json", name: "writer", CdsModule.guarded { ctx in
            let path = try ctx.nameArgument(1, what: "path")
            try refuseProtected(path, "json.writer", session)
            ctx.push(object: JSONWriterObject(writer: try fileOperation(path) { try JSONLinesWriter(path: path) }, outputs: session.outputs))
            return 1
        })
        lua.register(module: "json", name: "encode", CdsModule.guarded { ctx in
            let pretty = try ctx.optionalTableArgument(2).flatMap { ctx.bool(field: "pretty", in: $0) } ?? false
            ctx.push(try JSONBridge.json(ctx, at: 1, depth: 0).serialized(pretty: pretty))
            return 1
        })
        lua.register(module: "json", name: "decode", CdsModule.guarded { ctx in
            let text = try ctx.stringArgument(1)
            do { try JSONBridge.push(ctx, try JSONValue.parse(text)) } catch let error as DataFileError {
                throw LuaError.structured(code: "json.malformed", message: error.description)
            } catch let inexact as JSONBridge.InexactNumber {
                throw LuaError.structured(code: "json.malformed", message: inexact.message)
            }
            return 1
        })
    }

    /// The reading options a `csv.rows`/`csv.keys` call passes as argument `argument`
    /// (`{ delimiter = ";" }`).
    /// - Throws: `file.invalid_option` for a delimiter that is not one character (the reader
    ///   then refuses quotes, CR, LF and non-ASCII characters).
    static func csvOptions(_ ctx: LuaCallContext, argument: Int32) throws -> CSVReader.Options {
        guard let table = try ctx.optionalTableArgument(argument) else { return CSVReader.Options() }
        // (the delimiter's own checks give file.invalid_option, as the reader's do)
        try OptionsCheck.check(ctx, table: table, argument: argument, ["delimiter": .any])
        guard ctx.type(ofField: "delimiter", in: table) != .nil else { return CSVReader.Options() }
        guard ctx.type(ofField: "delimiter", in: table) == .string, let text = ctx.string(field: "delimiter", in: table),
              text.count == 1, let delimiter = text.first else {
            throw LuaError.structured(code: DataFileError.Code.invalidOption.rawValue,
                                      message: "delimiter must be one character, such as \";\" or \"\\t\"")
        }
        return CSVReader.Options(delimiter: delimiter)
    }

    /// `w:close()` and `<close>` of a writer: writes out what it holds and closes the file.
    /// - Throws: `file.write_failed` when the file could not be written out (a full disk).
    private static func closeWriter<T: LuaObject & ScriptOutput>(_ ctx: LuaCallContext, _ type: T.Type) throws -> Int32 {
        guard let object = ctx.object(at: 1, as: T.self) else { return 0 }
        try fileOperation("") { try object.closeOutput() }
        return 0
    }

    private static func fileOperation<T>(_ path: String, _ body: () throws -> T) throws -> T {
        do { return try body() } catch let error as DataFileError {
            throw LuaError.structured(code: error.code.rawValue, message: error.description)
        }
    }

    private static func nextCSVRow(_ ctx: LuaCallContext, _ session: SyncSession) throws -> Int32 {
        let rows = try ctx.objectArgument(1, as: CSVRowsObject.self)
        while true {
            guard rows.reader != nil else { ctx.pushNil(); return 1 }
            do {
                // fields go from the file's buffer straight into Lua strings; the reader is
                // advanced in place (a copy would copy its buffers on every row)
                let names = rows.names
                let table = ctx.pushNewTable(fieldCapacity: Int32(names.count))
                let line = try rows.reader!.nextRecord { index, bytes, isNull in
                    guard !isNull, index < names.count else { return }
                    names.push(ctx, index)
                    ctx.push(bytes: bytes)
                    ctx.rawSet(in: table)
                }
                guard let line else { ctx.pop(); rows.leave(session); ctx.pushNil(); return 1 }
                rows.enter(SourcePosition(file: rows.fileName, line: line), session)
                return 1
            } catch let error as DataFileError {
                ctx.pop()
                // a failure to read the file (not a malformed row) ends the loop: reading on
                // would only fail again
                if error.line == nil { rows.reader = nil }
                try reject(error, fileName: rows.fileName, ctx, session)
            }
        }
    }

    private static func nextJSONLine(_ ctx: LuaCallContext, _ session: SyncSession) throws -> Int32 {
        let lines = try ctx.objectArgument(1, as: JSONLinesObject.self)
        while true {
            guard var reader = lines.reader else { ctx.pushNil(); return 1 }
            do {
                let record = try reader.nextRecord()
                lines.reader = reader
                guard let record else { ctx.pushNil(); return 1 }
                lines.enter(SourcePosition(file: lines.fileName, line: record.line), session)
                let top = ctx.top
                // a line holding `null` is cds.null: nil would end the loop there
                if case .null = record.value { CdsModule.pushNull(ctx); return 1 }
                do {
                    try JSONBridge.push(ctx, record.value)
                } catch let inexact as JSONBridge.InexactNumber {
                    ctx.setTop(top)
                    throw DataFileError(code: .jsonInvalidNumber, file: lines.fileName, line: record.line, message: inexact.message)
                }
                return 1
            } catch let error as DataFileError {
                // a malformed line is skipped (with --on-error continue); a failure to read
                // the file ends the loop, as reading on would only fail again
                lines.reader = error.line == nil ? nil : reader
                try reject(error, fileName: lines.fileName, ctx, session)
            }
        }
    }

    /// A malformed source row: rejected and skipped with `--on-error continue`, an error otherwise.
    private static func reject(_ error: DataFileError, fileName: String, _ ctx: LuaCallContext, _ session: SyncSession) throws {
        let code = error.code.rawValue.hasPrefix("csv") ? "csv.malformed" : error.code.rawValue.hasPrefix("json") ? "json.malformed" : error.code.rawValue
        let source = error.line.map { "\(fileName):\($0)" } ?? fileName
        // the column too, where the reader knows it (a JSON line's syntax error)
        let place = error.line.flatMap { line in error.column.map { "\(fileName):\(line):\($0)" } } ?? source
        guard session.options.onError == .continue, error.line != nil else {
            throw LuaError.structured(code: code, message: "\(place): \(error.message)", fields: ["source": .string(source)])
        }
        session.queue.countRejectedRow()
        try session.queue.rejects?.write(source: source, line: ctx.callerLine(), key: "", code: code, message: error.message)
    }

    private static func writeCSVRow(_ ctx: LuaCallContext) throws -> Int32 {
        let object = try ctx.objectArgument(1, as: CSVWriterObject.self)
        guard let writer = object.writer else {
            throw LuaError.structured(code: DataFileError.Code.writerClosed.rawValue, message: "the CSV writer is closed")
        }
        let table = try ctx.tableArgument(2)
        let values = try object.header.enumerated().map { index, name -> String in
            var type = ctx.pushField(name, in: table)
            if type == .nil { ctx.pop(); type = ctx.pushIndex(Int64(index + 1), in: table) }
            defer { ctx.pop() }
            do { return try JSONBridge.text(ctx, at: -1) } catch LuaError.message(let message) {
                throw LuaError.structured(code: "csv.invalid_value", message: "column '\(name)': \(message)")
            }
        }
        try fileOperation("") { try writer.writeRow(values) }
        return 0
    }
}
