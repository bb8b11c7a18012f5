import DataFiles
import EntityModel
import LuaKit

/// Lua values ↔ JSON values. Integers stay integers; other JSON numbers become exact
/// `cds.decimal` values (never floats); decimals are written as exact JSON numbers.
enum JSONBridge {
    static let maxDepth = 100

    /// The JSON form of the Lua value at `index`.
    static func json(_ ctx: LuaCallContext, at index: Int32, depth: Int) throws -> JSONValue {
        guard depth < maxDepth else { throw LuaError.message("value nested deeper than \(maxDepth) levels cannot be written as JSON") }
        switch ctx.type(at: index) {
        case .nil, .none: return .null
        case .boolean: return .bool(ctx.isTruthy(at: index))
        case .string: return .string(ctx.string(at: index) ?? "")
        case .number:
            if ctx.isInteger(at: index), let integer = ctx.integer(at: index) { return .number(String(integer)) }
            let number = ctx.number(at: index) ?? 0
            guard number.isFinite else { throw LuaError.message("\(number) cannot be written as JSON") }
            return .number(String(number))
        case .userdata:
            if let decimal = ctx.inline(at: index, as: DecimalNumber.self) { return .number(decimal.description) }
            if let reference = ctx.object(at: index, as: ReferenceObject.self) { return .string(reference.reference.id?.description ?? reference.reference.keyDescription) }
            if ctx.object(at: index, as: NullObject.self) != nil { return .null }
        case .table:
            return try table(ctx, at: ctx.absolute(index), depth: depth)
        default: break
        }
        throw LuaError.message("a \(ctx.typeName(at: index)) cannot be written as JSON")
    }

    private static func table(_ ctx: LuaCallContext, at index: Int32, depth: Int) throws -> JSONValue {
        let length = ctx.rawLength(of: index)
        var members: [(String, JSONValue)] = []
        var items: [JSONValue] = []
        var isArray = true
        var count = 0
        try ctx.forEachEntry(in: index) { key, value in
            count += 1
            if ctx.type(at: key) == .string {
                isArray = false
                members.append((ctx.string(at: key) ?? "", try json(ctx, at: value, depth: depth + 1)))
            } else if !(ctx.isInteger(at: key) && (1...max(length, 1)).contains(ctx.integer(at: key) ?? 0)) {
                throw LuaError.message("JSON object keys must be strings")
            }
        }
        if count == 0 { return .object([]) }
        if isArray && count == Int(length) {
            for position in 1...length {
                _ = ctx.pushIndex(position, in: index)
                defer { ctx.pop() }
                items.append(try json(ctx, at: -1, depth: depth + 1))
            }
            return .array(items)
        }
        guard !isArray, members.count == count else { throw LuaError.message("a table mixing array items and named fields cannot be written as JSON") }
        return .object(members.sorted { $0.0 < $1.0 })
    }

    /// Pushes a JSON value as Lua (objects and arrays become tables; null becomes nil).
    static func push(_ ctx: LuaCallContext, _ value: JSONValue) {
        switch value {
        case .null: ctx.pushNil()
        case .bool(let flag): ctx.push(flag)
        case .string(let text): ctx.push(text)
        case .number(let text):
            if let integer = Int64(text) { ctx.push(integer) } else if let decimal = DecimalNumber(text) {
                ctx.push(inline: decimal)
            } else { ctx.push(Double(text) ?? 0) }
        case .array(let items):
            let table = ctx.pushNewTable(arrayCapacity: Int32(items.count))
            for (offset, item) in items.enumerated() {
                push(ctx, item)
                ctx.setIndex(Int64(offset + 1), in: table)
            }
        case .object(let members):
            let table = ctx.pushNewTable(fieldCapacity: Int32(members.count))
            for (name, member) in members {
                if case .null = member { continue }
                push(ctx, member)
                ctx.setField(name, in: table)
            }
        }
    }

    /// A cell's text for CSV output: strings as is, numbers and decimals as text, nil empty.
    static func text(_ ctx: LuaCallContext, at index: Int32) -> String {
        switch ctx.type(at: index) {
        case .string: return ctx.string(at: index) ?? ""
        case .number: return ctx.isInteger(at: index) ? String(ctx.integer(at: index) ?? 0) : String(ctx.number(at: index) ?? 0)
        case .boolean: return ctx.isTruthy(at: index) ? "true" : "false"
        case .userdata:
            if let decimal = ctx.inline(at: index, as: DecimalNumber.self) { return decimal.description }
            if let reference = ctx.object(at: index, as: ReferenceObject.self) { return reference.reference.id?.description ?? "" }
            return ""
        default: return ""
        }
    }
}
