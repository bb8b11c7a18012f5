import DataFiles
import EntityModel
import Foundation
import LuaKit

/// `csv.rows(path)` reader state.
final class CSVRowsObject: LuaObject {
    static let luaTypeName = "csv.Rows"
    var reader: CSVReader?
    let fileName: String
    /// The header's names, set on every row.
    let names: FixedNames
    init(reader: CSVReader, fileName: String) {
        self.reader = reader
        self.fileName = fileName
        names = FixedNames(reader.header.names)
    }
    func luaClose() { reader = nil }
}

/// `csv.writer(path, header)` writer state.
final class CSVWriterObject: LuaObject {
    static let luaTypeName = "csv.Writer"
    var writer: CSVWriter?
    let header: [String]
    init(writer: CSVWriter, header: [String]) {
        self.writer = writer
        self.header = header
    }
    func luaClose() { try? writer?.close(); writer = nil }
}

/// `json.lines(path)` reader state.
final class JSONLinesObject: LuaObject {
    static let luaTypeName = "json.Lines"
    var reader: JSONLinesReader?
    let fileName: String
    init(reader: JSONLinesReader, fileName: String) {
        self.reader = reader
        self.fileName = fileName
    }
    func luaClose() { reader = nil }
}

/// `json.writer(path)` writer state.
final class JSONWriterObject: LuaObject {
    static let luaTypeName = "json.Writer"
    var writer: JSONLinesWriter?
    init(writer: JSONLinesWriter) { self.writer = writer }
    func luaClose() { try? writer?.close(); writer = nil }
}

/// The `csv` and `json` modules: fast Swift readers and writers exposed to Lua.
enum FileModules {
    static func register(_ lua: LuaState, _ session: SyncSession) {
        lua.registerObjectType(CSVRowsObject.self, next: CdsModule.guarded { ctx in try nextCSVRow(ctx, session) })
        lua.registerObjectType(CSVWriterObject.self, methods: [
            "write": CdsModule.guarded { ctx in try writeCSVRow(ctx) },
            "close": { ctx in ctx.close(objectAt: 1, as: CSVWriterObject.self); return 0 },
        ])
        lua.registerObjectType(JSONLinesObject.self, next: CdsModule.guarded { ctx in try nextJSONLine(ctx, session) })
        lua.registerObjectType(JSONWriterObject.self, methods: [
            "write": CdsModule.guarded { ctx in
                let object = try ctx.objectArgument(1, as: JSONWriterObject.self)
                guard let writer = object.writer else { throw LuaError.message("the JSON writer is closed") }
                if writer.escapesNonASCII {
                    try writer.write(try JSONBridge.json(ctx, at: 2, depth: 0))
                } else {
                    try writer.writeLine { output in try JSONBridge.write(ctx, at: 2, depth: 0, into: &output) }
                }
                return 0
            },
            "close": { ctx in ctx.close(objectAt: 1, as: JSONWriterObject.self); return 0 },
        ])
        lua.register(module: "csv", name: "rows", CdsModule.guarded { ctx in
            let path = try ctx.stringArgument(1)
            var options = CSVReader.Options()
            if let table = try ctx.optionalTableArgument(2), let delimiter = ctx.string(field: "delimiter", in: table), let first = delimiter.first {
                options = CSVReader.Options(delimiter: first)
            }
            let reader = try fileOperation(path) { try CSVReader(path: path, options: options) }
            return try ctx.returnIterator(over: CSVRowsObject(reader: reader, fileName: (path as NSString).lastPathComponent))
        })
        lua.register(module: "csv", name: "writer", CdsModule.guarded { ctx in
            let path = try ctx.stringArgument(1)
            let header = ctx.value(at: try ctx.tableArgument(2)).arrayStrings ?? []
            guard !header.isEmpty else { throw LuaError.argument(2, "a non-empty array of column names expected") }
            let writer = try fileOperation(path) { try CSVWriter(path: path) }
            try writer.writeRow(header)
            ctx.push(object: CSVWriterObject(writer: writer, header: header))
            return 1
        })
        registerJSON(lua, session)
    }

    private static func registerJSON(_ lua: LuaState, _ session: SyncSession) {
        lua.register(module: "json", name: "lines", CdsModule.guarded { ctx in
            let path = try ctx.stringArgument(1)
            let reader = try fileOperation(path) { try JSONLinesReader(path: path) }
            return try ctx.returnIterator(over: JSONLinesObject(reader: reader, fileName: (path as NSString).lastPathComponent))
        })
        lua.register(module: "json", name: "writer", CdsModule.guarded { ctx in
            let path = try ctx.stringArgument(1)
            ctx.push(object: JSONWriterObject(writer: try fileOperation(path) { try JSONLinesWriter(path: path) }))
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
            }
            return 1
        })
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
                    ctx.push(bytes: bytes)
                    names.setField(ctx, index, in: table)
                }
                guard let line else { ctx.pop(); session.currentSource = nil; ctx.pushNil(); return 1 }
                session.currentSource = SourcePosition(file: rows.fileName, line: line)
                return 1
            } catch let error as DataFileError {
                ctx.pop()
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
                session.currentSource = SourcePosition(file: lines.fileName, line: record.line)
                try JSONBridge.push(ctx, record.value)
                return 1
            } catch let error as DataFileError {
                lines.reader = reader
                try reject(error, fileName: lines.fileName, ctx, session)
            }
        }
    }

    /// A malformed source row: rejected and skipped with `--on-error continue`, an error otherwise.
    private static func reject(_ error: DataFileError, fileName: String, _ ctx: LuaCallContext, _ session: SyncSession) throws {
        let code = error.code.rawValue.hasPrefix("csv") ? "csv.malformed" : error.code.rawValue.hasPrefix("json") ? "json.malformed" : error.code.rawValue
        let source = "\(fileName):\(error.line ?? 0)"
        guard session.options.onError == .continue, error.line != nil else {
            throw LuaError.structured(code: code, message: "\(source): \(error.message)", fields: ["source": .string(source)])
        }
        session.queue.countRejectedRow()
        try session.queue.rejects?.write(source: source, line: ctx.callerLine(), key: "", code: code, message: error.message)
    }

    private static func writeCSVRow(_ ctx: LuaCallContext) throws -> Int32 {
        let object = try ctx.objectArgument(1, as: CSVWriterObject.self)
        guard let writer = object.writer else { throw LuaError.message("the CSV writer is closed") }
        let table = try ctx.tableArgument(2)
        let values = object.header.enumerated().map { index, name -> String in
            var type = ctx.pushField(name, in: table)
            if type == .nil { ctx.pop(); type = ctx.pushIndex(Int64(index + 1), in: table) }
            defer { ctx.pop() }
            return JSONBridge.text(ctx, at: -1)
        }
        try writer.writeRow(values)
        return 0
    }
}
