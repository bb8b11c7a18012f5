import DataFiles
import EntityModel
import Foundation
import LuaKit

/// Converts between Lua values and the domain's values. Reads use only raw, non-raising access.
enum LuaConversions {
    /// The value of a column from the Lua value at `index`.
    /// - Throws: `LuaError.message` naming the column for values that are not column values.
    static func fieldValue(_ ctx: LuaCallContext, at index: Int32, column: @autoclosure () -> String) throws -> FieldValue {
        switch ctx.type(at: index) {
        case .string:
            // text that is not UTF-8 is refused, not repaired: two keys differing only in such
            // bytes would otherwise become one record
            guard let text = ctx.validString(at: index) else {
                throw DataFileError.invalidText("the value of '\(column())' is not valid UTF-8 text (convert it, e.g. from Latin-1, first)")
            }
            return .string(text)
        case .number:
            if ctx.isInteger(at: index), let integer = ctx.integer(at: index) { return .integer(integer) }
            return .float(ctx.number(at: index) ?? 0)
        case .boolean: return .boolean(ctx.isTruthy(at: index))
        case .userdata:
            if let reference = ctx.object(at: index, as: ReferenceObject.self) { return .reference(reference.reference) }
            if let decimal = ctx.inline(at: index, as: DecimalNumber.self) { return .decimal(decimal) }
            if ctx.object(at: index, as: NullObject.self) != nil { return .null }
        default: break
        }
        throw LuaError.message("'\(column())' cannot be set to a \(ctx.typeName(at: index)); use a string, number, boolean, cds.decimal(...), cds.ref(...) or cds.null")
    }

    /// The fields of a Lua table (string keys only).
    static func fields(_ ctx: LuaCallContext, table: Int32, argument: Int32) throws -> [String: FieldValue] {
        var fields = [String: FieldValue](minimumCapacity: 8)
        try forEachField(ctx, table: table, argument: argument) { name, value in fields[name] = value }
        return fields
    }

    /// Calls `body` with each column name and value of a Lua table of fields, in `lua_next` order.
    /// - Throws: `LuaError.argument` for a key that is not a string; `fieldValue`'s errors.
    static func forEachField(_ ctx: LuaCallContext, table: Int32, argument: Int32,
                             _ body: (String, FieldValue) throws -> Void) throws {
        try ctx.forEachEntry(in: table) { key, value in
            guard ctx.type(at: key) == .string, let name = ctx.string(at: key) else {
                throw LuaError.argument(argument, "field names must be strings")
            }
            try body(name, try fieldValue(ctx, at: value, column: name))
        }
    }

    /// The record a key argument names: a GUID string, a table of key columns, or a `cds.ref`.
    static func reference(_ ctx: LuaCallContext, entity: String, at index: Int32) throws -> EntityReference {
        switch ctx.type(at: index) {
        case .string:
            let text = ctx.string(at: index) ?? ""
            guard let id = RecordID(text) else {
                throw LuaError.argument(index, "'\(text)' is not a GUID; pass a table of alternate-key columns, e.g. { accountnumber = \"A1\" }")
            }
            return EntityReference(entity, id: id)
        case .table:
            // one key column (the usual `{ code = "N" }`) is kept as it is, without a dictionary
            var entries: [(String, FieldValue)] = []
            try forEachField(ctx, table: ctx.absolute(index), argument: index) { name, value in entries.append((name, value)) }
            guard !entries.isEmpty else { throw LuaError.argument(index, "the key table is empty") }
            if entries.count == 1 { return EntityReference(entity, key: entries[0].0, value: entries[0].1) }
            return EntityReference(entity, keys: Dictionary(entries, uniquingKeysWith: { _, last in last }))
        case .userdata:
            if let reference = ctx.object(at: index, as: ReferenceObject.self) {
                // a reference names its own entity: acting on it as another entity's record
                // would write or delete a record of the wrong table
                guard reference.reference.entity == entity else {
                    throw LuaError.argument(index, "the reference names a record of '\(reference.reference.entity)', not of '\(entity)'")
                }
                return reference.reference
            }
        default: break
        }
        throw LuaError.argument(index, "GUID string or key table expected, got \(ctx.typeName(at: index))")
    }

    /// Pushes a record as a table: column → value; nulls are left out.
    static func pushRecord(_ ctx: LuaCallContext, _ record: Record) {
        let table = ctx.pushNewTable(fieldCapacity: Int32(record.fields.count))
        for (column, value) in record.fields {
            if case .reference(let reference) = value, let related = record.related[column] {
                ctx.push(object: ReferenceObject(reference, related: .record(related)))
                ctx.setField(column, in: table)
            } else if pushValue(ctx, value) {
                ctx.setField(column, in: table)
            }
        }
    }

    /// Pushes row `row` of a page as `pushRecord` pushes the same record: a table of its
    /// non-null columns, expanded lookups as references that read their related row.
    /// `names`, when given, are the page's column names as `FixedNames` (a change loop's).
    /// `sharedReferences`, when given, is the index of a table kept for this page: rows pointing
    /// at the same record read by id (`RelatedRows.isShared`) then get the same reference,
    /// made once (references are immutable).
    static func pushRow(_ ctx: LuaCallContext, _ page: RowPage, _ row: Int, names: FixedNames? = nil,
                        sharedReferences: Int32? = nil) {
        let table = ctx.pushNewTable(fieldCapacity: Int32(page.columns.count))
        func setField(_ index: Int) {
            if let names { names.setField(ctx, index, in: table) } else { ctx.setField(page.columns[index], in: table) }
        }
        for index in 0..<page.columns.count {
            let value = page.value(row: row, column: index)
            if case .reference(let reference) = value, let related = page.relatedPlace(of: row, columnAt: index) {
                if let shared = sharedReferences, page.related[related.slot].isShared {
                    // one per related record of the page: its place among the page's related rows
                    let key = Int64(related.slot) << 32 | Int64(related.row)
                    if ctx.pushIndex(key, in: shared) != .userdata {
                        ctx.pop()
                        ctx.push(object: ReferenceObject(reference, related: .row(page.related[related.slot].page, related.row)))
                        ctx.pushCopy(of: -1)
                        ctx.setIndex(key, in: shared)
                    }
                } else {
                    ctx.push(object: ReferenceObject(reference, related: .row(page.related[related.slot].page, related.row)))
                }
                setField(index)
            } else if pushValue(ctx, value) {
                setField(index)
            }
        }
    }

    /// Pushes a field value; returns false (pushing nothing) for null.
    static func pushValue(_ ctx: LuaCallContext, _ value: FieldValue) -> Bool {
        switch value {
        case .null: return false
        case .string(let text): ctx.push(text)
        case .integer(let number): ctx.push(number)
        case .decimal(let number): ctx.push(inline: number)
        case .float(let number): ctx.push(number)
        case .boolean(let flag): ctx.push(flag)
        case .dateTime(let date): ctx.push(DateText.string(from: date))
        case .guid(let id): ctx.push(id.description)
        case .reference(let reference): ctx.push(object: ReferenceObject(reference))
        }
        return true
    }
}
