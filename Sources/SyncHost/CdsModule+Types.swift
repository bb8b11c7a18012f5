import EntityModel
import LuaKit

extension CdsModule {
    /// Registers the userdata types scripts see: references, decimals, null and write results.
    static func registerTypes(_ lua: LuaState, _ session: SyncSession) {
        lua.registerObjectType(ReferenceObject.self, metamethods: [
            "__index": { ctx in
                guard let reference = ctx.object(at: 1, as: ReferenceObject.self), let name = ctx.stringBytes(at: 2) else {
                    ctx.pushNil()
                    return 1
                }
                // the name's bytes as Lua holds them: no String made per access
                if name.elementsEqual("entity".utf8) {
                    ctx.push(reference.reference.entity)
                } else if name.elementsEqual("id".utf8) {
                    ctx.push(reference.reference.id?.description)
                } else if name.elementsEqual("key".utf8) {
                    ctx.push(reference.reference.keyDescription)
                } else if let value = reference.relatedValue(named: name), LuaConversions.pushValue(ctx, value) {
                    // an expanded lookup reads the related record's columns
                } else {
                    ctx.pushNil()
                }
                return 1
            },
            "__tostring": { ctx in
                ctx.push(ctx.object(at: 1, as: ReferenceObject.self)?.reference.description ?? "cds.Reference")
                return 1
            },
            "__eq": { ctx in
                ctx.push(ctx.object(at: 1, as: ReferenceObject.self)?.reference == ctx.object(at: 2, as: ReferenceObject.self)?.reference)
                return 1
            },
        ])
        lua.registerInlineType(DecimalNumber.self, metamethods: [
            "__tostring": { ctx in ctx.push(ctx.inline(at: 1, as: DecimalNumber.self)?.description ?? "?"); return 1 },
            "__concat": { ctx in
                let parts = [1, 2].map { index -> String in
                    if let decimal = ctx.inline(at: Int32(index), as: DecimalNumber.self) { return decimal.description }
                    if ctx.type(at: Int32(index)) == .number { return ctx.isInteger(at: Int32(index)) ? String(ctx.integer(at: Int32(index))!) : String(ctx.number(at: Int32(index))!) }
                    return ctx.string(at: Int32(index)) ?? ""
                }
                ctx.push(parts[0] + parts[1])
                return 1
            },
            "__eq": { ctx in compareDecimals(ctx) { $0 == $1 } },
            "__lt": { ctx in compareDecimals(ctx) { $0 < $1 } },
            "__le": { ctx in compareDecimals(ctx) { $0 < $1 || $0 == $1 } },
        ])
        lua.registerObjectType(NullObject.self, metamethods: [
            "__tostring": { ctx in ctx.push("cds.null"); return 1 },
        ])
        lua.registerObjectType(ChangeCursor.self, next: guarded(ChangeCursor.nextChange))
        lua.registerObjectType(QueryCursor.self, next: guarded(QueryCursor.nextRow))
        lua.registerObjectType(ResultBox.self, metamethods: [
            "__index": guarded { ctx in try resultField(ctx, session) },
        ])
    }

    private static func compareDecimals(_ ctx: LuaCallContext, _ compare: (DecimalNumber, DecimalNumber) -> Bool) -> Int32 {
        let values = [Int32(1), 2].map { index -> DecimalNumber? in
            if let decimal = ctx.inline(at: index, as: DecimalNumber.self) { return decimal }
            if ctx.isInteger(at: index), let integer = ctx.integer(at: index) { return DecimalNumber(integer) }
            if ctx.type(at: index) == .string { return DecimalNumber(ctx.string(at: index) ?? "") }
            return nil
        }
        guard let left = values[0], let right = values[1] else { ctx.push(false); return 1 }
        ctx.push(compare(left, right))
        return 1
    }

    /// `result.id`, `result.created`, `result.changed`, `result.error`: flushes first if needed.
    private static func resultField(_ ctx: LuaCallContext, _ session: SyncSession) throws -> Int32 {
        guard let box = ctx.object(at: 1, as: ResultBox.self) else { return 0 }
        if let undone = session.queue.rollback(of: box) {
            // a REPL statement that failed took the write back
            box.response = nil
            box.error = undone
        }
        if box.response == nil && box.error == nil {
            if box.insideTransaction {
                throw LuaError.message("the result of a write inside cds.transaction is known only after the transaction returns")
            }
            do { try session.queue.flush() } catch is RowFailure where box.error != nil { }
        }
        let field = ctx.string(at: 2) ?? ""
        if field == "error" {
            if let error = box.error { ctx.push(errorValue(error, key: box.failureKey, line: box.failureLine)) } else { ctx.pushNil() }
            return 1
        }
        if let error = box.error, field == "id" || field == "created" || field == "changed" {
            throw errorValue(error, line: box.failureLine ?? ctx.callerLine(), key: box.failureKey ?? error.key, source: nil)
        }
        switch (field, box.response) {
        case ("id", let response?): ctx.push(response.recordID?.description)
        case ("created", .upserted(_, let created, _)?): ctx.push(created)
        case ("created", .created?): ctx.push(true)
        case ("created", _?): ctx.push(false)
        case ("changed", .upserted(_, _, let changed)?), ("changed", .updated(_, let changed, _)?): ctx.push(changed)
        case ("changed", _?): ctx.push(true)
        default: ctx.pushNil()
        }
        return 1
    }

    private static func errorValue(_ error: ServiceError, key: String?, line: Int?) -> LuaValue {
        var fields: [String: LuaValue] = ["code": .string(error.code.value), "message": .string(error.message)]
        if let key = key ?? error.key { fields["key"] = .string(key) }
        if let line { fields["line"] = .integer(Int64(line)) }
        if let entity = error.entity { fields["entity"] = .string(entity) }
        return .record(fields)
    }
}
