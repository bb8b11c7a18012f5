import EntityModel
import LuaKit

/// `cds.query(entity, {filter, select, orderby, top})` and `cds.describe`.
enum CdsQuery {
    /// Rows `cds.query` returns at most when the script gives no `top`; `cds.rows` streams any number.
    static let defaultLimit = 100_000

    /// The query described by an options table (`filter`, `select`, `orderby`, `top`).
    static func parse(_ ctx: LuaCallContext, entity: String, options index: Int32, pageSize: Bool = false) throws -> Query {
        var query = Query(entity: entity)
        if let options = try ctx.optionalTableArgument(index) {
            var known: [String: OptionsCheck.Kind] = ["filter": .string, "select": .stringList, "orderby": .string, "top": .integer,
                                                      "expand": .table]
            if pageSize { known["page_size"] = .positiveInteger }
            try OptionsCheck.check(ctx, table: options, argument: index, known)
            if let filter = ctx.string(field: "filter", in: options) { query.filter = try FilterParser.parse(filter) }
            if ctx.type(ofField: "select", in: options) == .table { query.columns = ctx.value(field: "select", in: options).arrayStrings }
            if let order = ctx.string(field: "orderby", in: options) { query.orderBy = try OrderBy.parse(order) }
            if let top = ctx.integer(field: "top", in: options) {
                guard top >= 0 else { throw LuaError.argument(index, "top must not be negative") }
                query.top = Int(top)
            }
            query.expand = try expand(ctx, options: options, argument: index)
        }
        return query
    }

    /// The `expand` option: `{ lookup = { "column", … } }` or `{ lookup = "column" }`.
    static func expand(_ ctx: LuaCallContext, options: Int32, argument: Int32) throws -> [String: [String]] {
        let value = ctx.value(field: "expand", in: options)
        guard case .table(let table) = value else {
            if case .nil = value { return [:] }
            throw LuaError.argument(argument, "expand must be a table: { lookup = { \"column\", … } }")
        }
        var result: [String: [String]] = [:]
        for (key, columns) in table {
            guard let lookup = key.stringValue else { throw LuaError.argument(argument, "expand keys must be lookup column names") }
            if let column = columns.stringValue {
                result[lookup] = [column]
            } else if let list = columns.arrayStrings, !list.isEmpty {
                result[lookup] = list
            } else {
                throw LuaError.argument(argument, "expand.\(lookup) must be a column name or a list of column names")
            }
        }
        return result
    }

    static func query(_ ctx: LuaCallContext, _ session: SyncSession) throws -> Int32 {
        var query = try parse(ctx, entity: try ctx.stringArgument(1), options: 2)
        let limit = query.top ?? defaultLimit
        var records: [Record] = []
        var cookie: String?
        repeat {
            query.pagingCookie = cookie
            guard case .records(let page) = try session.read(.retrieveMultiple(query)) else { break }
            records += page.records
            cookie = page.moreRecords ? page.pagingCookie : nil
        } while cookie != nil && records.count < limit
        let table = ctx.pushNewTable(arrayCapacity: Int32(min(records.count, limit)))
        for (index, record) in records.prefix(limit).enumerated() {
            LuaConversions.pushRecord(ctx, record)
            ctx.setIndex(Int64(index + 1), in: table)
        }
        return 1
    }
}

/// `cds.describe(entity)` as a plain Lua table.
enum CdsDescribe {
    static func value(_ definition: EntityDefinition) -> LuaValue {
        let columns = definition.allAttributes.map { attribute -> LuaValue in
            var fields: [String: LuaValue] = ["name": .string(attribute.name), "type": .string(attribute.type.rawValue),
                                              "required": .bool(attribute.isRequired)]
            if attribute.type == .string || attribute.type == .memo { fields["max_length"] = .integer(Int64(attribute.effectiveMaxLength)) }
            if attribute.type == .decimal || attribute.type == .money { fields["precision"] = .integer(Int64(attribute.effectivePrecision)) }
            if let targets = attribute.targets { fields["targets"] = .array(targets.map(LuaValue.string)) }
            return .record(fields)
        }
        let keys = definition.keys.map { key -> LuaValue in
            .record(["name": .string(key.name), "columns": .array(key.columns.map(LuaValue.string)), "status": .string(key.status.rawValue)])
        }
        let states = definition.hasStateModel ? definition.states.map { state -> LuaValue in
            .record(["value": .integer(state.value), "label": .string(state.label), "default_status": .integer(state.defaultStatus),
                     "statuses": .array(state.statuses.map { .record(["value": .integer($0.value), "label": .string($0.label)]) })])
        } : []
        var result: [String: LuaValue] = [
            "name": .string(definition.name), "set_name": .string(definition.setName), "primary_id": .string(definition.primaryIdAttribute),
            "change_tracking": .bool(definition.changeTracking), "columns": .array(columns), "keys": .array(keys), "states": .array(states),
        ]
        if let primaryName = definition.primaryNameAttribute { result["primary_name"] = .string(primaryName) }
        return .record(result)
    }
}
