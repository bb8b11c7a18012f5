import DataFiles
import EntityModel
import Foundation
import KeyTables
import LuaKit

/// A set of source keys for `cdsync.mirror`, held in Swift: `cds.key_set()` builds one key by
/// key, `csv.keys(path, column)` reads a whole column without making a Lua table per row.
///
/// Keys compare the way the store compares alternate keys: text ignoring ASCII case, numbers
/// by their decimal text (`42` and `"42"` are the same key). nil and `cds.null` are not keys.
final class KeySetObject: LuaObject {
    static let luaTypeName = "cds.KeySet"
    /// The keys' comparison forms (ASCII letters lower-cased), as bytes: a million keys cost
    /// tens of megabytes and no String each.
    private var keys = ByteKeyTable(capacity: 1024)
    /// Keys collected from writes (`cds.upserted_keys`) and not yet in `keys`: they are folded
    /// and hashed a chunk at a time, before the set next answers.
    private var collected = PackedKeys(capacity: collectedChunk)
    private static let collectedChunk = 8192
    /// Why the set does not hold the key of every record its entity's writes named (a write
    /// naming one by GUID or another key, a create without the column), with the script line;
    /// nil while it does.
    private(set) var incompleteReason: String?

    /// The number of keys.
    var count: Int {
        addCollected()
        return keys.count
    }

    /// Adds a normalized key; true when it was new.
    @discardableResult
    func insert(_ key: String) -> Bool {
        addCollected()
        return keys.insert(key)
    }

    func contains(_ key: String) -> Bool {
        addCollected()
        return keys.contains(key)
    }

    /// Adds each key of `batch` (UTF-8 bytes, folded here in place), ignoring ASCII case.
    func insertFoldingEach(_ batch: inout PackedKeys) {
        batch.foldASCIICase()
        keys.insertEach(batch)
    }

    /// Answers, for each key of `batch` (UTF-8 bytes, folded here in place), whether the set holds it.
    func containsFoldingEach(_ batch: inout PackedKeys, into answers: inout [Bool]) {
        addCollected()
        batch.foldASCIICase()
        keys.containsEach(batch, into: &answers)
    }

    /// Collects a write's key value (nil and null are not keys): the text's bytes are kept as
    /// they are and folded with their chunk, so a write costs no String.
    func collect(_ value: FieldValue) {
        switch value {
        case .string(var text): text.withUTF8 { collected.append(UnsafeRawBufferPointer($0)) }
        default:
            guard var key = KeySets.normalizedKey(value) else { return }
            key.withUTF8 { collected.append(UnsafeRawBufferPointer($0)) }
        }
        if collected.count == Self.collectedChunk { addCollected() }
    }

    /// Records why a write left the set without its record's key; the first reason is the one
    /// reported.
    func markIncomplete(_ reason: String) {
        if incompleteReason == nil { incompleteReason = reason }
    }

    private func addCollected() {
        guard collected.count > 0 else { return }
        insertFoldingEach(&collected)
        collected.removeAll()
    }
}

/// `cds.upserted_keys(entity, column)`: a key set that every later upsert of `entity` adds its
/// `column` value to, as do creates and updates naming it (the set is held weakly: one the
/// script dropped stops collecting).
final class KeyCollector {
    let entity: String
    let column: String
    private(set) weak var set: KeySetObject?

    init(entity: String, column: String, set: KeySetObject) {
        self.entity = entity
        self.column = column
        self.set = set
    }

    private func collect(_ reference: EntityReference, line: Int, verb: String, into set: KeySetObject) {
        if case .keys(let keys) = reference.locator, let value = keys[column] {
            set.collect(value)
        } else {
            set.markIncomplete("line \(line) \(verb) \(entity) by \(reference.description)")
        }
    }

    /// Adds the key of `request` when it writes the collector's entity.
    func collect(_ request: borrowing ServiceRequest, line: Int) {
        guard let set else { return }
        switch request {
        case .upsertRow(let row) where row.entity == entity:
            if let index = row.shape.keyColumns.firstIndex(of: column) {
                set.collect(row.keyValues[index])
            } else {
                set.markIncomplete("line \(line) upserted \(entity) by \(row.shape.keyColumns.joined(separator: ", "))")
            }
        case .upsert(let reference, _, _) where reference.entity == entity:
            collect(reference, line: line, verb: "upserted", into: set)
        case .update(let reference, _, _) where reference.entity == entity:
            collect(reference, line: line, verb: "updated", into: set)
        case .create(let created, _, let fields) where created == entity:
            // a created record is in the source too; without the column its key is unknown here
            if let value = fields[column] {
                set.collect(value)
            } else {
                set.markIncomplete("line \(line) created \(entity) without \(column)")
            }
        default: break
        }
    }
}

/// Adds chunks of keys to a set on a serial queue of its own.
private final class KeyInserter: @unchecked Sendable {
    private let set: KeySetObject
    private let queue = DispatchQueue(label: "cdsync.csv-keys")

    init(_ set: KeySetObject) { self.set = set }

    /// Keys read from a file per chunk handed to the queue.
    static let chunkSize = 8192

    func insert(_ chunk: PackedKeys) {
        queue.async { [self] in
            var chunk = chunk
            set.insertFoldingEach(&chunk)
        }
    }

    /// Waits until every chunk is in the set.
    func finish() { queue.sync {} }
}

enum KeySets {
    static func register(_ lua: LuaState, _ session: SyncSession) {
        lua.registerObjectType(KeySetObject.self, methods: [
            "add": CdsModule.guarded { ctx in
                let set = try ctx.objectArgument(1, as: KeySetObject.self)
                guard let key = try normalizedKey(ctx, at: 2) else { ctx.push(false); return 1 }
                ctx.push(set.insert(key))
                return 1
            },
            "has": CdsModule.guarded { ctx in
                let set = try ctx.objectArgument(1, as: KeySetObject.self)
                ctx.push(try normalizedKey(ctx, at: 2).map(set.contains) ?? false)
                return 1
            },
            "count": CdsModule.guarded { ctx in
                ctx.push(Int64(try ctx.objectArgument(1, as: KeySetObject.self).count))
                return 1
            },
        ])
        lua.register(module: "cds", name: "key_set", CdsModule.guarded { ctx in
            ctx.push(object: KeySetObject())
            return 1
        })
        lua.register(module: "cds", name: "upserted_keys", CdsModule.guarded { ctx in
            let entity = try ctx.nameArgument(1, what: "entity")
            let column = try ctx.nameArgument(2, what: "key column")
            guard ctx.top <= 2 else { throw LuaError.argument(3, "cds.upserted_keys takes an entity and a key column") }
            let definition = try session.definition(entity)
            guard definition.keys.contains(where: { $0.columns == [column] }) else {
                let known = definition.keys.filter { $0.columns.count == 1 }.flatMap(\.columns)
                throw LuaError.argument(2, "'\(column)' is not a one-column alternate key of \(entity)"
                    + (known.isEmpty ? " (it has none)" : " (one-column keys: \(known.joined(separator: ", ")))"))
            }
            // keys compare as text; a decimal, date or lookup key is stored in another form than
            // a script gives it (1.5 as 1.50), so its records would look missing and be deleted
            if let type = definition.attribute(column)?.type, type != .string, type != .memo {
                throw LuaError.argument(2, "'\(column)' of \(entity) is a \(type.rawValue) column; cds.upserted_keys collects text keys")
            }
            let set = KeySetObject()
            session.keyCollectors.removeAll { $0.set == nil }
            session.keyCollectors.append(KeyCollector(entity: entity, column: column, set: set))
            ctx.push(object: set)
            return 1
        })
        lua.register(module: "csv", name: "keys", CdsModule.guarded { ctx in try readKeys(ctx, session) })
        lua.register(module: "cds", name: "missing", CdsModule.guarded { ctx in try missing(ctx, session) })
    }

    /// `cds.missing(entity, key_set, { key = column, filter = "...", select = { ... } })`: streams the
    /// entity's rows and returns `{ considered, unkeyed, missing = { { key, id, <select>… }, … } }`
    /// for the rows whose key the set lacks. The comparison runs in Swift, so only the missing
    /// rows become Lua tables. Rows without a key value are counted as unkeyed and left alone.
    private static func missing(_ ctx: LuaCallContext, _ session: SyncSession) throws -> Int32 {
        let entity = try ctx.stringArgument(1)
        let set = try ctx.objectArgument(2, as: KeySetObject.self)
        if let reason = set.incompleteReason {
            // a record upserted by another key would look missing and be deleted
            throw LuaError.structured(code: "keys.incomplete", message:
                "the key set from cds.upserted_keys lacks keys: \(reason); it cannot stand for the source of a mirror")
        }
        let options = try ctx.tableArgument(3)
        try OptionsCheck.check(ctx, table: options, argument: 3, ["key": .string, "filter": .string, "select": .stringList])
        guard let column = ctx.string(field: "key", in: options) else { throw LuaError.argument(3, "options need key = \"<key column>\"") }
        // keys compare as text: a decimal, date, float or lookup column's stored form is not the
        // one a source gives (1.50 against 1.5), and its records would look missing and be deleted
        if let type = try session.definition(entity).attribute(column)?.type,
           ![.string, .memo, .integer, .choice, .uniqueidentifier].contains(type) {
            throw LuaError.argument(3, "key '\(column)' of \(entity) is a \(type.rawValue) column; a mirror compares text, whole-number or GUID keys")
        }
        var query = Query(entity: entity, columns: [column], pageSize: 5000)
        if let filter = ctx.string(field: "filter", in: options) { query.filter = try FilterParser.parse(filter) }
        let extra = ctx.type(ofField: "select", in: options) == .table ? ctx.value(field: "select", in: options).arrayStrings ?? [] : []
        query.columns! += extra.filter { $0 != column }
        try session.queue.flush()
        let (considered, unkeyed, found) = try compare(query, key: column, extra: extra, with: set, session)
        let result = ctx.pushNewTable(fieldCapacity: 3)
        ctx.push(Int64(considered)); ctx.setField("considered", in: result)
        ctx.push(Int64(unkeyed)); ctx.setField("unkeyed", in: result)
        let list = ctx.pushNewTable(arrayCapacity: Int32(found.count))
        for (index, record) in found.enumerated() {
            let row = ctx.pushNewTable(fieldCapacity: Int32(extra.count + 2))
            if LuaConversions.pushValue(ctx, record.fields[column] ?? .null) { ctx.setField("key", in: row) }
            ctx.push(record.id?.description); ctx.setField("id", in: row)
            for name in extra where name != column {
                if LuaConversions.pushValue(ctx, record.fields[name] ?? .null) { ctx.setField(name, in: row) }
            }
            ctx.setIndex(Int64(index + 1), in: list)
        }
        ctx.setField("missing", in: result)
        return 1
    }

    /// The rows of `query` whose `key` the set lacks: compared in the store when it can scan the
    /// column (one statement, no record per row), otherwise page by page as records.
    private static func compare(_ query: Query, key column: String, extra: [String], with set: KeySetObject,
                                _ session: SyncSession) throws -> (considered: Int, unkeyed: Int, missing: [Record]) {
        if let scanner = session.service as? KeyColumnScanning {
            session.queue.countRequest()
            if let result = try scanner.scanKeyColumn(entity: query.entity, column: column, columns: extra, filter: query.filter,
                                                      areKnown: set.containsFoldingEach) {
                return (result.considered, result.unkeyed, result.missing)
            }
        }
        var query = query
        var considered = 0, unkeyed = 0
        var found: [Record] = []
        var cookie: String?
        repeat {
            query.pagingCookie = cookie
            guard case .records(let page) = try session.read(.retrieveMultiple(query)) else { break }
            for record in page.records {
                considered += 1
                guard let key = normalizedKey(record.fields[column] ?? .null) else { unkeyed += 1; continue }
                if !set.contains(key) { found.append(record) }
            }
            cookie = page.moreRecords ? page.pagingCookie : nil
        } while cookie != nil
        return (considered, unkeyed, found)
    }

    /// The comparison form of a stored key value, as `normalizedKey(ctx:at:)` gives it for the
    /// same value in Lua; nil for null and booleans.
    static func normalizedKey(_ value: FieldValue) -> String? {
        switch value {
        case .null, .boolean: return nil
        case .string(let text): return asciiLowercased(text)
        case .integer(let number): return String(number)
        case .decimal(let number): return asciiLowercased(number.description)
        case .float(let number):
            if number.rounded() == number, abs(number) < 9.2e18 { return String(Int64(number)) }
            return String(format: "%.14g", number)
        case .dateTime(let date): return asciiLowercased(DateText.string(from: date))
        case .guid(let id): return id.description
        case .reference(let reference): return asciiLowercased(reference.description)
        }
    }

    /// `csv.keys(path, column [, { delimiter = ";" }])`: the column's values as a key set.
    /// Every row must be well formed and have the column: a mirror must never run on a partial
    /// source, so a bad row is an error naming the file and line even under `--on-error continue`.
    private static func readKeys(_ ctx: LuaCallContext, _ session: SyncSession) throws -> Int32 {
        let path = try ctx.nameArgument(1, what: "path")
        let column = try ctx.stringArgument(2)
        let options = try FileModules.csvOptions(ctx, argument: 3)
        let fileName = (path as NSString).lastPathComponent
        let set = KeySetObject()
        do {
            var reader = try CSVReader(path: path, options: options)
            guard let index = reader.header.names.firstIndex(of: column) else {
                throw LuaError.structured(code: "csv.malformed",
                    message: "\(fileName): has no column '\(column)' (columns: \(reader.header.names.joined(separator: ", ")))")
            }
            // only the key field's bytes are touched: no String or record per row. Hashing runs
            // on a second thread, a chunk of keys at a time, while this one parses the file; the
            // set is touched only there until `inserter.sync` (also on the way out of an error)
            let inserter = KeyInserter(set)
            defer { inserter.finish() }
            var chunk = PackedKeys(capacity: KeyInserter.chunkSize)
            while try reader.nextRecord(visit: { field, bytes, _ in
                if field == index { chunk.append(UnsafeRawBufferPointer(bytes)) }
            }) != nil {
                if chunk.count == KeyInserter.chunkSize {
                    inserter.insert(chunk)
                    chunk = PackedKeys(capacity: KeyInserter.chunkSize)
                }
            }
            inserter.insert(chunk)
        } catch let error as DataFileError where error.code == .csvMissingHeader {
            // a file without a header (an empty file): as `csv.rows` reports it
            throw LuaError.structured(code: error.code.rawValue, message: error.description)
        } catch let error as DataFileError {
            let source = "\(fileName):\(error.line ?? 0)"
            throw LuaError.structured(code: error.code.rawValue.hasPrefix("csv") ? "csv.malformed" : error.code.rawValue,
                                      message: error.line == nil ? error.description : "\(source): \(error.message)",
                                      fields: ["source": .string(source)])
        }
        ctx.push(object: set)
        return 1
    }

    /// The comparison form of the key at `index`; nil for values that are not keys.
    /// - Throws: `text.invalid_utf8` for a string that is not UTF-8 (repaired, two different
    ///   keys could become one, and a mirror would keep a record the source does not have).
    static func normalizedKey(_ ctx: LuaCallContext, at index: Int32) throws -> String? {
        switch ctx.type(at: index) {
        case .string:
            guard let text = ctx.validString(at: index) else {
                throw DataFileError.invalidText("a key set's key must be UTF-8 text (convert it first, e.g. from Latin-1)")
            }
            return asciiLowercased(text)
        case .number:
            if ctx.isInteger(at: index), let integer = ctx.integer(at: index) { return String(integer) }
            guard let number = ctx.number(at: index) else { return nil }
            if number.rounded() == number, abs(number) < 9.2e18 { return String(Int64(number)) }
            return String(format: "%.14g", number)
        case .userdata:
            if let decimal = ctx.inline(at: index, as: DecimalNumber.self) { return asciiLowercased(decimal.description) }
            if let reference = ctx.object(at: index, as: ReferenceObject.self) { return asciiLowercased(reference.reference.description) }
            return nil
        default:
            return nil
        }
    }

    /// Lower-cases ASCII letters only, as Lua's `string.lower` does in the C locale.
    static func asciiLowercased(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 >= 65 && $0 <= 90 }) else { return text }
        return String(decoding: text.utf8.map { $0 >= 65 && $0 <= 90 ? $0 + 32 : $0 }, as: UTF8.self)
    }
}
