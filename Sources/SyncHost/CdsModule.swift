import DataFiles
import EntityModel
import Foundation
import LuaKit

/// The `cds` module: thin bindings from Lua to the data service. Dataverse rules live in the
/// service; these only convert values, queue writes and turn errors into Lua error values.
enum CdsModule {
    static func register(_ lua: LuaState, _ session: SyncSession) {
        registerTypes(lua, session)
        let bind = { (name: String, body: @escaping (LuaCallContext) throws -> Int32) in
            lua.register(module: "cds", name: name, guarded(body))
        }
        let shaper = RowShaper()
        bind("upsert") { ctx in try write(ctx, session) { entity in
            let mode = try upsertMode(ctx, options: 4)
            if ctx.type(at: 2) == .table, ctx.type(at: 3) == .table {
                // by key table: values by position in a shape shared with the calls before
                return .upsertRow(try shaper.upsert(ctx, entity: entity, keys: 2, fields: 3, mode: mode))
            }
            return .upsert(try LuaConversions.reference(ctx, entity: entity, at: 2),
                           fields: try LuaConversions.fields(ctx, table: try ctx.tableArgument(3), argument: 3), mode: mode)
        } }
        bind("create") { ctx in try write(ctx, session) { entity in
            let id = try ctx.optionalStringArgument(3).map { text -> RecordID in
                guard let id = RecordID(text) else { throw LuaError.argument(3, "'\(text)' is not a GUID") }
                return id
            }
            return .create(entity: entity, id: id, fields: try LuaConversions.fields(ctx, table: try ctx.tableArgument(2), argument: 2))
        } }
        bind("update") { ctx in try write(ctx, session) { entity in
            .update(try LuaConversions.reference(ctx, entity: entity, at: 2),
                    fields: try LuaConversions.fields(ctx, table: try ctx.tableArgument(3), argument: 3), ifVersion: nil)
        } }
        bind("delete") { ctx in try write(ctx, session) { entity in
            .delete(try LuaConversions.reference(ctx, entity: entity, at: 2), ifVersion: nil)
        } }
        bind("get") { ctx in try get(ctx, session) }
        bind("query") { ctx in try CdsQuery.query(ctx, session) }
        bind("rows") { ctx in try QueryCursor.open(ctx, session) }
        // references are immutable, so a load naming the same region or owner row after row
        // shares one reference object per key value (no Swift object, userdata or finalizer each time)
        let refs = LuaValueCache(limit: 4096)
        bind("ref") { ctx in
            var cached = LuaValueCache.Lookup.uncached
            if ctx.top >= 3 {
                cached = ctx.pushCached(refs, 1, 2, 3)
                // a script may have closed it (`<close>`): then it is made again
                if cached == .hit {
                    if ctx.object(at: -1, as: ReferenceObject.self) != nil { return 1 }
                    ctx.pop()
                    cached = .miss
                }
            }
            let entity = try ctx.stringArgument(1)
            if ctx.top >= 3, ctx.type(at: 2) == .string, let column = ctx.string(at: 2),
               column.utf8.count < 36 || RecordID(column) == nil {
                // cds.ref(entity, column, value): one key column, no key table to build and read
                guard ctx.type(at: 3) != .nil else { throw LuaError.argument(3, "the value of key column '\(column)' is nil") }
                let value = try LuaConversions.fieldValue(ctx, at: 3, column: column)
                ctx.push(object: ReferenceObject(EntityReference(entity, key: column, value: value)))
                if cached == .miss { ctx.storeCached(refs, 1, 2, 3) }
                return 1
            }
            ctx.push(object: ReferenceObject(try LuaConversions.reference(ctx, entity: entity, at: 2)))
            return 1
        }
        bind("decimal") { ctx in try decimal(ctx) }
        bind("transaction") { ctx in try transaction(ctx, session) }
        bind("changes") { ctx in try ChangeCursor.open(ctx, session) }
        bind("start_tracking") { ctx in try ChangeCursor.startTracking(ctx, session) }
        bind("flush") { ctx in try session.queue.flush(); return 0 }
        bind("checkpoint") { ctx in ctx.push(try session.checkpoint()); return 1 }
        bind("entities") { ctx in ctx.push(LuaValue.array(try session.entityNames().map(LuaValue.string))); return 1 }
        bind("describe") { ctx in ctx.push(CdsDescribe.value(try session.definition(try ctx.stringArgument(1)))); return 1 }
        let null = NullObject()
        bind("_null") { ctx in
            ctx.push(object: null)
            ctx.pushCopy(of: -1)
            ctx.setRegistryValue(Self.nullRegistryKey)  // for bindings that hand out cds.null itself
            return 1
        }
        bind("stats") { ctx in
            let counters = session.reportedCounters
            var stats: [String: LuaValue] = [
                "created": .integer(Int64(counters.created)), "updated": .integer(Int64(counters.updated)),
                "unchanged": .integer(Int64(counters.unchanged)), "deleted": .integer(Int64(counters.deleted)),
                "failed": .integer(Int64(counters.failed)), "requests": .integer(Int64(counters.requests)),
                "elapsed": .number(RunReport.processSeconds()),
            ]
            if let peak = RunReport.peakResidentMegabytes() { stats["peak_rss_mb"] = .number(peak) }
            ctx.push(LuaValue.record(stats))
            return 1
        }
    }

    /// Where the registry keeps `cds.null`'s userdata.
    static let nullRegistryKey = "cdsync.null"

    /// Pushes `cds.null` (the same userdata scripts compare with `rawequal`).
    static func pushNull(_ ctx: LuaCallContext) {
        if ctx.pushRegistryValue(nullRegistryKey) != .userdata {
            ctx.pop()
            ctx.push(object: NullObject())
        }
    }

    /// Wraps a binding so that service errors and row failures reach Lua as error tables.
    static func guarded(_ body: @escaping (LuaCallContext) throws -> Int32) -> LuaFunction {
        { ctx in
            // after its timeout, memory limit or an interrupt, a script that caught the error
            // gets it again from every call: it cannot go on writing or reading
            if let reason = ctx.stoppedReason { throw LuaError.message(reason) }
            do { return try body(ctx) } catch let failure as RowFailure {
                throw errorValue(failure.error, line: failure.line, key: failure.key, source: failure.source)
            } catch let error as ServiceError {
                throw errorValue(error, line: ctx.callerLine(), key: error.key, source: nil)
            } catch let error as DataFileError {
                // a file the host writes for the script failing (the rejects file on a full disk)
                throw LuaError.structured(code: error.code.rawValue, message: error.description)
            }
        }
    }

    /// The Lua error table for a service error: code, message, key, entity, line, source.
    static func errorValue(_ error: ServiceError, line: Int, key: String?, source: String?) -> LuaError {
        var fields: [String: LuaValue] = ["line": .integer(Int64(line))]
        if let key { fields["key"] = .string(key) }
        if let entity = error.entity { fields["entity"] = .string(entity) }
        if let source { fields["source"] = .string(source) }
        return LuaError.structured(code: error.code.value, message: error.message, fields: fields)
    }

    private static func write(_ ctx: LuaCallContext, _ session: SyncSession,
                              _ build: (String) throws -> ServiceRequest) throws -> Int32 {
        let entity = try ctx.stringArgument(1)
        let box = try session.write(try build(entity), line: ctx.callerLine())
        ctx.push(object: box)
        return 1
    }

    private static func upsertMode(_ ctx: LuaCallContext, options index: Int32) throws -> UpsertMode {
        guard let table = try ctx.optionalTableArgument(index), let mode = ctx.string(field: "mode", in: table) else { return .createOrUpdate }
        switch mode {
        case "create": return .createOnly
        case "update": return .updateOnly
        case "upsert": return .createOrUpdate
        default: throw LuaError.argument(index, "mode must be \"upsert\", \"create\" or \"update\", got \"\(mode)\"")
        }
    }

    private static func get(_ ctx: LuaCallContext, _ session: SyncSession) throws -> Int32 {
        let entity = try ctx.stringArgument(1)
        let reference = try LuaConversions.reference(ctx, entity: entity, at: 2)
        var columns: [String]?
        if let options = try ctx.optionalTableArgument(3), ctx.type(ofField: "select", in: options) == .table {
            columns = ctx.value(field: "select", in: options).arrayStrings
        }
        do {
            guard case .record(let record) = try session.read(.retrieve(reference, columns: columns)) else { ctx.pushNil(); return 1 }
            LuaConversions.pushRecord(ctx, record)
        } catch let error as ServiceError where error.code == .recordNotFoundByEntityKey || error.code == .objectDoesNotExist {
            ctx.pushNil()
        }
        return 1
    }

    private static func decimal(_ ctx: LuaCallContext) throws -> Int32 {
        let value: DecimalNumber?
        switch ctx.type(at: 1) {
        case .string: value = ctx.stringBytes(at: 1).flatMap(DecimalNumber.init(utf8:))
        case .number:
            guard ctx.isInteger(at: 1), let integer = ctx.integer(at: 1) else {
                throw LuaError.argument(1, "a float would lose precision; pass the decimal as a string, e.g. cds.decimal(\"12.50\")")
            }
            value = DecimalNumber(integer)
        case .userdata where ctx.inline(at: 1, as: DecimalNumber.self) != nil:
            value = ctx.inline(at: 1, as: DecimalNumber.self)
        default:
            throw LuaError.argument(1, "string expected, got \(ctx.typeName(at: 1))")
        }
        guard let value else {
            let text = ctx.string(at: 1) ?? ""
            let shown = text.count > 60 ? text.prefix(60) + "…" : Substring(text)
            // digits and at most one point (after an optional minus), but more digits than a decimal holds
            let digits = text.hasPrefix("-") ? text.dropFirst() : Substring(text)
            let looksDecimal = !digits.isEmpty && digits.allSatisfy { $0.isASCII && ($0.isNumber || $0 == ".") }
                && digits.filter { $0 == "." }.count <= 1
            throw LuaError.argument(1, looksDecimal
                ? "'\(shown)' has more digits than a decimal holds (at most 18 significant digits)"
                : "'\(shown)' is not a decimal number")
        }
        ctx.push(inline: value)
        return 1
    }

    private static func transaction(_ ctx: LuaCallContext, _ session: SyncSession) throws -> Int32 {
        guard ctx.type(at: 1) == .function else { throw LuaError.argument(1, "function expected, got \(ctx.typeName(at: 1))") }
        try session.queue.beginTransaction()
        let tokensBefore = session.pendingTokens
        ctx.setTop(1)
        // re-raised as raised: a script's pcall around the transaction sees its own error value
        guard ctx.protectedCall(argumentCount: 0, resultCount: nil, traceback: false) else {
            session.queue.abandonTransaction()
            session.pendingTokens = tokensBefore
            throw LuaError.propagate
        }
        do { try session.queue.commitTransaction() } catch {
            session.pendingTokens = tokensBefore
            throw error
        }
        return ctx.top
    }
}

extension LuaValue {
    /// The string items of an array table.
    var arrayStrings: [String]? {
        guard case .table(let table) = self else { return nil }
        return (1...max(1, table.count)).compactMap { table[.integer(Int64($0))]?.stringValue }
    }
}
