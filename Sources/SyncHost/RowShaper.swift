import EntityModel
import LuaKit

/// Turns `cds.upsert(entity, keys, fields)` calls into positional upserts (`RowUpsert`).
///
/// A loop upserting records builds its tables with the same constructor, so their entries come
/// out of `lua_next` in the same order call after call. The shaper remembers the column names of
/// the last shapes as bytes and compares each key in place, so a record costs no Swift string
/// per column name and no dictionary. Any difference (another column set, a nil field, another
/// order) finds or makes the matching shape by name; nothing is assumed.
///
/// One shaper belongs to one Lua state and is used only on its thread.
final class RowShaper {
    private struct Entry {
        let shape: RowShape
        let keyBytes: [[UInt8]]
        let fieldBytes: [[UInt8]]
    }

    private struct Names: Hashable {
        let keys: [String]
        let fields: [String]
    }

    /// The shapes used last, most recent first.
    private var recent: [Entry] = []
    private var known: [Names: Entry] = [:]
    /// Shapes kept before the by-name cache starts over (a script with ever-new column sets).
    static let limit = 256
    static let recentCount = 4

    /// The upsert of the key table at `keys` and the field table at `fields`.
    /// - Throws: `LuaError` for non-string column names, an empty key table, or values that are not column values.
    func upsert(_ ctx: LuaCallContext, entity: String, keys: Int32, fields: Int32, mode: UpsertMode) throws -> RowUpsert {
        let hint = recent.first
        let key = try read(ctx, table: keys, argument: 2, expected: hint?.keyBytes)
        guard !key.values.isEmpty else { throw LuaError.argument(2, "the key table is empty") }
        let field = try read(ctx, table: fields, argument: 3, expected: hint?.fieldBytes)
        let entry: Entry
        if let hint, key.names == nil, field.names == nil {
            entry = hint
        } else {
            entry = self.entry(Names(keys: key.names ?? hint!.shape.keyColumns, fields: field.names ?? hint!.shape.fieldColumns))
        }
        return RowUpsert(entity: entity, shape: entry.shape, keyValues: key.values, values: field.values, mode: mode)
    }

    /// The values of a table in `lua_next` order, and its column names when they are not `expected`.
    private func read(_ ctx: LuaCallContext, table: Int32, argument: Int32,
                      expected: [[UInt8]]?) throws -> (values: [FieldValue], names: [String]?) {
        var values: [FieldValue] = []
        values.reserveCapacity(expected?.count ?? 8)
        var names: [String]?
        // a plain loop rather than `forEachEntry`: this runs for every column of every record
        guard ctx.reserve(3) else { throw LuaError.message("the Lua stack is full (values nested too deeply)") }
        let table = ctx.absolute(table)
        let base = ctx.top
        defer { ctx.setTop(base) }
        let key = base + 1, value = base + 2
        ctx.pushNil()
        while ctx.nextEntry(in: table) {
            guard ctx.type(at: key) == .string else { throw LuaError.argument(argument, "field names must be strings") }
            let position = values.count
            if names == nil {
                if let expected, position < expected.count, ctx.stringEquals(at: key, expected[position]) {
                    values.append(try LuaConversions.fieldValue(ctx, at: value, column: String(decoding: expected[position], as: UTF8.self)))
                    ctx.pop()
                    continue
                }
                // the entries so far matched the expected names; from here on, read each name
                names = (expected ?? []).prefix(position).map { String(decoding: $0, as: UTF8.self) }
            }
            let name = ctx.string(at: key) ?? ""
            names!.append(name)
            values.append(try LuaConversions.fieldValue(ctx, at: value, column: name))
            ctx.pop()
        }
        if names == nil, let expected, values.count != expected.count {
            names = expected.prefix(values.count).map { String(decoding: $0, as: UTF8.self) }
        }
        if names == nil, expected == nil { names = [] }
        return (values, names)
    }

    private func entry(_ names: Names) -> Entry {
        if let index = recent.firstIndex(where: { $0.shape.keyColumns == names.keys && $0.shape.fieldColumns == names.fields }) {
            let found = recent.remove(at: index)
            recent.insert(found, at: 0)
            return found
        }
        if known.count >= Self.limit { known.removeAll() }
        let found = known[names] ?? Entry(shape: RowShape(keyColumns: names.keys, fieldColumns: names.fields),
                                          keyBytes: names.keys.map { Array($0.utf8) }, fieldBytes: names.fields.map { Array($0.utf8) })
        known[names] = found
        recent.insert(found, at: 0)
        if recent.count > Self.recentCount { recent.removeLast() }
        return found
    }
}
