import EntityModel
import Foundation
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
        // Paging cookie: "<rows already returned>:<last primary key>", and for a custom order
        // the last row's values of the order's columns after it (`PageCursor`): a later page
        // seeks past that row in the order, so rows the loop body deletes or inserts meanwhile
        // neither make it skip rows nor see rows twice. A cookie of the count alone (from
        // before) skips rows with OFFSET.
        let cursor = try query.pagingCookie.map { try PageCursor(parsing: $0, orderColumns: query.orderBy.count, table) }
        let offset = cursor?.count ?? 0
        let pageSize = min(max(query.pageSize, 1), Self.maxPageSize)
        let remaining = query.top.map { max(0, $0 - offset) } ?? Int.max
        let limit = min(pageSize, remaining)
        try checkExpand(query.expand, table)
        let projection = projection(columnsWithExpanded(query.columns, query.expand), table)
        var sql = "SELECT \(projection.selectList) FROM \(table.quotedTable) WHERE \(whereSQL)"
        var pageArguments = arguments
        let orderColumns = query.orderBy.map { quoteIdentifier(logicalColumn($0.column)) }
        if let cursor, let last = cursor.lastID {
            sql += " AND " + Self.seekCondition(after: cursor.orderValues, last, columns: orderColumns,
                                                descending: query.orderBy.map(\.descending), table, &pageArguments)
        }
        sql += " ORDER BY \(order) LIMIT ?"
        pageArguments.append((limit + 1).databaseValue)
        if let cursor, cursor.lastID == nil {
            sql += " OFFSET ?"
            pageArguments.append(offset.databaseValue)
        }
        var rows = try records(db, sql, pageArguments, table, projection, expand: query.expand)
        let more = rows.count > limit && remaining > limit
        if rows.count > limit { rows.removeLast(rows.count - limit) }
        var cookie: String?
        if more, let last = rows.last?.id {
            var values: [DatabaseValue] = []
            if !orderColumns.isEmpty {
                // the order's stored values of the page's last row, read by its id
                let row = try Row.fetchOne(db, sql: "SELECT \(orderColumns.joined(separator: ", ")) FROM \(table.quotedTable) WHERE \(quoteIdentifier(table.primaryKey)) = ?",
                                           arguments: [last.description])
                values = (0..<orderColumns.count).map { row?[$0] ?? .null }
            }
            cookie = PageCursor(count: offset + limit, lastID: last, orderValues: values).text
        } else if more {
            cookie = String(offset + limit)
        }
        var total: Int?
        if query.includeCount {
            let counted = try Int.fetchOne(db, sql: "SELECT count(*) FROM \(table.quotedTable) WHERE \(whereSQL)",
                                           arguments: StatementArguments(arguments)) ?? 0
            total = min(counted, Self.maxPageSize)
        }
        return QueryPage(records: rows, moreRecords: more, pagingCookie: cookie, totalCount: total)
    }

    /// Rows after the row with `values` (of the order's `columns`) and id `last` in the order
    /// `ORDER BY columns…, primary key`: SQLite's order, where null sorts first (so last when
    /// descending), and text columns compare with their own collation, as in the ORDER BY.
    static func seekCondition(after values: [DatabaseValue], _ last: RecordID, columns: [String], descending: [Bool],
                              _ table: EntityTable, _ arguments: inout [DatabaseValue]) -> String {
        var alternatives: [String] = []
        var equalSoFar: [String] = []
        var equalArguments: [DatabaseValue] = []
        for (index, column) in columns.enumerated() {
            let value = values[index]
            // this column after the value, the earlier ones equal
            var after: String?
            switch (value.isNull, descending[index]) {
            case (true, false): after = "\(column) IS NOT NULL"
            case (true, true): after = nil  // nothing sorts after null, descending
            case (false, false): after = "\(column) > ?"
            case (false, true): after = "(\(column) < ? OR \(column) IS NULL)"
            }
            if let after {
                alternatives.append("(" + (equalSoFar + [after]).joined(separator: " AND ") + ")")
                arguments += equalArguments
                if !value.isNull { arguments.append(value) }
            }
            if value.isNull {
                equalSoFar.append("\(column) IS NULL")
            } else {
                equalSoFar.append("\(column) = ?")
                equalArguments.append(value)
            }
        }
        alternatives.append("(" + (equalSoFar + ["\(quoteIdentifier(table.primaryKey)) > ?"]).joined(separator: " AND ") + ")")
        arguments += equalArguments
        arguments.append(last.description.databaseValue)
        return "(" + alternatives.joined(separator: " OR ") + ")"
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

/// Where the next page of a query starts: rows returned so far, and the last row returned
/// (its id, and its stored values of the query's order columns). As text (the paging cookie,
/// also a Web API `$skiptoken`): `COUNT`, `COUNT:ID`, or `COUNT:ID:V1:V2…` with each value
/// typed (`n` null, `i` integer, `r` real by its bits, `t` text, `b` blob in hex) and `%`
/// and `:` escaped in text.
struct PageCursor {
    let count: Int
    /// Nil for a cookie of the count alone (rows are then skipped with OFFSET).
    let lastID: RecordID?
    let orderValues: [DatabaseValue]

    init(count: Int, lastID: RecordID?, orderValues: [DatabaseValue]) {
        self.count = count
        self.lastID = lastID
        self.orderValues = orderValues
    }

    /// - Throws: `invalidArgument` for text no page wrote, or for another order's cookie.
    init(parsing text: String, orderColumns: Int, _ table: EntityTable) throws {
        let invalid = ServiceError(.invalidArgument, "The paging cookie '\(text)' is not valid.", entity: table.name)
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        // (a count no page sequence reaches is forged: refused before any arithmetic on it)
        guard let count = Int(parts[0]), count >= 0, count <= EntityStore.maxCookieRows else { throw invalid }
        self.count = count
        if parts.count == 1 {
            lastID = nil
            orderValues = []
            return
        }
        guard let id = RecordID(parts[1]), parts.count == 2 + orderColumns else { throw invalid }
        lastID = id
        orderValues = try parts.dropFirst(2).map { part in
            guard let value = Self.value(part) else { throw invalid }
            return value
        }
    }

    var text: String {
        guard let lastID else { return String(count) }
        return ([String(count), lastID.description] + orderValues.map(Self.text)).joined(separator: ":")
    }

    private static func text(_ value: DatabaseValue) -> String {
        switch value.storage {
        case .null: return "n"
        case .int64(let integer): return "i\(integer)"
        case .double(let real): return "r\(real.bitPattern)"
        case .string(let string):
            return "t" + string.replacingOccurrences(of: "%", with: "%25").replacingOccurrences(of: ":", with: "%3A")
        case .blob(let data): return "b" + data.map { String(format: "%02x", $0) }.joined()
        }
    }

    private static func value(_ text: String) -> DatabaseValue? {
        guard let kind = text.first else { return nil }
        let payload = String(text.dropFirst())
        switch kind {
        case "n": return payload.isEmpty ? .null : nil
        case "i": return Int64(payload).map { $0.databaseValue }
        case "r": return UInt64(payload).map { Double(bitPattern: $0).databaseValue }
        case "t":
            // only the two escapes text() writes
            var result = "", rest = Substring(payload)
            while let percent = rest.firstIndex(of: "%") {
                result += rest[..<percent]
                let code = rest[percent...].prefix(3)
                if code == "%25" { result += "%" } else if code == "%3A" { result += ":" } else { return nil }
                rest = rest[rest.index(percent, offsetBy: 3)...]
            }
            return (result + rest).databaseValue
        case "b":
            guard payload.count % 2 == 0 else { return nil }
            var bytes: [UInt8] = []
            var index = payload.startIndex
            while index < payload.endIndex {
                let next = payload.index(index, offsetBy: 2)
                guard let byte = UInt8(payload[index..<next], radix: 16) else { return nil }
                bytes.append(byte)
                index = next
            }
            return Data(bytes).databaseValue
        default: return nil
        }
    }
}
