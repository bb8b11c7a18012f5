import EntityModel
import GRDB

extension EntityStore {
    /// The most rows one page returns (SPEC §6 rule 9).
    public static let maxPageSize = 5000
    /// The most rows a paging cookie may say were returned already (2^40): far beyond any
    /// table, and far from overflowing when a page is added to it.
    static let maxCookieRows = 1 << 40

    /// Runs a query and returns one page.
    /// - Throws: `0x0` for unknown columns, `query.invalid` for values of the wrong type.
    public func runQuery(_ query: Query) throws -> QueryPage {
        try read { db in try runQuery(query, db) }
    }

    func runQuery(_ query: Query, _ db: Database) throws -> QueryPage {
        let table = try table(query.entity)
        try checkColumns(query.columns, table)
        try checkColumns(query.orderBy.map(\.column), table)
        var arguments: [DatabaseValue] = []
        let whereSQL = try query.filter.map { try filterSQL(for: $0, table, &arguments) } ?? "1"
        let order = (query.orderBy.map { "\(quoteIdentifier(logicalColumn($0.column)))\($0.descending ? " DESC" : "")" }
            + [quoteIdentifier(table.primaryKey)]).joined(separator: ", ")
        // Paging cookie: "<rows already returned>" (OFFSET paging, for custom orders), or
        // "<rows already returned>:<last primary key>" when the order is the primary key alone,
        // so a later page seeks instead of skipping every earlier row.
        let cookieParts = query.pagingCookie?.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init) ?? []
        if !cookieParts.isEmpty {
            // (a count no page sequence reaches is forged: refused before any arithmetic on it)
            guard let count = Int(cookieParts[0]), count >= 0, count <= Self.maxCookieRows,
                  cookieParts.count == 1 || RecordID(cookieParts[1]) != nil else {
                throw ServiceError(.invalidArgument, "The paging cookie '\(query.pagingCookie ?? "")' is not valid.", entity: table.name)
            }
        }
        let offset = cookieParts.first.flatMap { Int($0) } ?? 0
        let after = query.orderBy.isEmpty && cookieParts.count == 2 ? cookieParts[1] : nil
        // seek past the last key when the cookie has one; otherwise (custom order, or a cookie
        // without a key) skip rows with OFFSET
        let keyset = after != nil || (query.orderBy.isEmpty && cookieParts.isEmpty)
        let pageSize = min(max(query.pageSize, 1), Self.maxPageSize)
        let remaining = query.top.map { max(0, $0 - offset) } ?? Int.max
        let limit = min(pageSize, remaining)
        try checkExpand(query.expand, table)
        let projection = projection(columnsWithExpanded(query.columns, query.expand), table)
        var sql = "SELECT \(projection.selectList) FROM \(table.quotedTable) WHERE \(whereSQL)"
        var pageArguments = arguments
        if let after {
            sql += " AND \(quoteIdentifier(table.primaryKey)) > ?"
            pageArguments.append(after.databaseValue)
        }
        sql += " ORDER BY \(order) LIMIT ?"
        pageArguments.append((limit + 1).databaseValue)
        if !keyset {
            sql += " OFFSET ?"
            pageArguments.append(offset.databaseValue)
        }
        var rows = try records(db, sql, pageArguments, table, projection, expand: query.expand)
        let more = rows.count > limit && remaining > limit
        if rows.count > limit { rows.removeLast(rows.count - limit) }
        var cookie: String?
        if more {
            cookie = String(offset + limit)
            if keyset, let last = rows.last?.id { cookie! += ":" + last.description }
        }
        var total: Int?
        if query.includeCount {
            let counted = try Int.fetchOne(db, sql: "SELECT count(*) FROM \(table.quotedTable) WHERE \(whereSQL)",
                                           arguments: StatementArguments(arguments)) ?? 0
            total = min(counted, Self.maxPageSize)
        }
        return QueryPage(records: rows, moreRecords: more, pagingCookie: cookie, totalCount: total)
    }

    /// The operands of a chain of `and` (or of `or`), left to right.
    private static func operands(_ filter: FilterExpression, and: Bool) -> [FilterExpression] {
        switch filter {
        case .and(let left, let right) where and: return operands(left, and: true) + operands(right, and: true)
        case .or(let left, let right) where !and: return operands(left, and: false) + operands(right, and: false)
        default: return [filter]
        }
    }

    func filterSQL(for filter: FilterExpression, _ table: EntityTable, _ arguments: inout [DatabaseValue]) throws -> String {
        switch filter {
        case .and, .or:
            // a chain of one operator (`a or b or c …`) is one parenthesized list: nested
            // parentheses overflow SQLite's parser at about 90 operands
            let isAnd: Bool
            if case .and = filter { isAnd = true } else { isAnd = false }
            let parts = try Self.operands(filter, and: isAnd).map { try filterSQL(for: $0, table, &arguments) }
            return "(" + parts.joined(separator: isAnd ? " AND " : " OR ") + ")"
        case .not(let inner):
            return "NOT (\(try filterSQL(for: inner, table, &arguments)))"
        case .function(let function, let column, let text):
            let attribute = try filterAttribute(column, table)
            guard attribute.type == .string || attribute.type == .memo else {
                throw ServiceError(.queryInvalid, "\(function.rawValue) needs a text column; '\(column)' is \(attribute.type.rawValue).", entity: table.name)
            }
            let escaped = text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%")
                .replacingOccurrences(of: "_", with: "\\_")
            let pattern = function == .startswith ? escaped + "%" : function == .endswith ? "%" + escaped : "%" + escaped + "%"
            arguments.append(pattern.databaseValue)
            return "\(quoteIdentifier(attribute.name)) LIKE ? ESCAPE '\\'"
        case .comparison(let column, let op, let value):
            let attribute = try filterAttribute(column, table)
            let name = quoteIdentifier(attribute.name)
            if value.isNull {
                guard op == .eq || op == .ne else { throw ServiceError(.queryInvalid, "null can only be compared with eq or ne.", entity: table.name) }
                return "\(name) IS \(op == .eq ? "" : "NOT ")NULL"
            }
            arguments.append(try filterValue(value, attribute, table))
            let symbol = ["eq": "=", "ne": "<>", "gt": ">", "ge": ">=", "lt": "<", "le": "<="][op.rawValue]!
            return op == .ne ? "(\(name) IS NULL OR \(name) <> ?)" : "\(name) \(symbol) ?"
        }
    }

    private func filterAttribute(_ column: String, _ table: EntityTable) throws -> AttributeDefinition {
        guard let attribute = table.attributeByName[logicalColumn(column)] else {
            throw ServiceError(.unknownProperty,
                "Could not find a property named '\(column)' on type 'Microsoft.Dynamics.CRM.\(table.name)'.", entity: table.name)
        }
        return attribute
    }

    private func filterValue(_ value: FieldValue, _ attribute: AttributeDefinition, _ table: EntityTable) throws -> DatabaseValue {
        if attribute.type.isReference || attribute.type == .uniqueidentifier {
            switch value {
            case .guid(let id): return id.description.databaseValue
            case .string(let text) where RecordID(text) != nil: return RecordID(text)!.description.databaseValue
            default: throw ServiceError(.queryInvalid, "'\(attribute.name)' compares with a GUID.", entity: table.name)
            }
        }
        if attribute.type == .string || attribute.type == .memo, case .string(let text) = value {
            return text.databaseValue
        }
        do {
            return try ValueCodec.storageValue(value, for: AttributeDefinition(name: attribute.name, type: attribute.type,
                maxLength: Int.max / 2, precision: attribute.precision), entity: table.name)
        } catch let error as ServiceError {
            throw ServiceError(.queryInvalid, error.message, entity: table.name)
        }
    }
}
