/// A comparison operator of the filter subset.
public enum ComparisonOperator: String, Sendable {
    case eq, ne, gt, ge, lt, le
}

/// A string function of the filter subset.
public enum StringFunction: String, Sendable {
    case contains, startswith, endswith
}

/// A filter expression (the `$filter` subset cdsync supports).
public indirect enum FilterExpression: Sendable, Equatable {
    /// `column op literal`; `eq null` / `ne null` test for null.
    case comparison(column: String, op: ComparisonOperator, value: FieldValue)
    /// `contains(column,'text')` and friends; case-insensitive.
    case function(StringFunction, column: String, text: String)
    /// Both.
    case and(FilterExpression, FilterExpression)
    /// Either.
    case or(FilterExpression, FilterExpression)
    /// Negation.
    case not(FilterExpression)

    /// Every column the expression mentions.
    public var columns: [String] {
        switch self {
        case .comparison(let column, _, _), .function(_, let column, _): return [column]
        case .and(let left, let right), .or(let left, let right): return left.columns + right.columns
        case .not(let inner): return inner.columns
        }
    }
}

/// A column to order by.
public struct OrderBy: Sendable, Equatable {
    /// The column.
    public var column: String
    /// Descending when true.
    public var descending: Bool

    /// Creates an ordering.
    public init(_ column: String, descending: Bool = false) {
        self.column = column
        self.descending = descending
    }
}

extension OrderBy {
    /// Most columns one ordering may name (each at most once).
    public static let maxTerms = 100

    /// Parses `$orderby` text: `name desc, revenue asc` (direction optional, `asc` by default).
    /// - Throws: `query.invalid` for anything else, a column named twice, or more than `maxTerms` columns.
    public static func parse(_ text: String) throws -> [OrderBy] {
        let parts = text.split(separator: ",")
        guard parts.count <= maxTerms else {
            throw ServiceError(.queryInvalid, "Invalid orderby: \(parts.count) columns; at most \(maxTerms).")
        }
        var seen = Set<String>()
        return try parts.map { part in
            let words = part.split(separator: " ").map(String.init)
            guard let column = words.first, words.count <= 2 else { throw ServiceError(.queryInvalid, "Invalid orderby '\(text)'.") }
            guard seen.insert(column.lowercased()).inserted else {
                throw ServiceError(.queryInvalid, "Invalid orderby: '\(column)' is given twice.")
            }
            switch words.count == 2 ? words[1].lowercased() : "asc" {
            case "asc": return OrderBy(column)
            case "desc": return OrderBy(column, descending: true)
            default: throw ServiceError(.queryInvalid, "Invalid orderby '\(text)': use asc or desc.")
            }
        }
    }
}

/// A query over one entity.
public struct Query: Sendable {
    /// The entity.
    public var entity: String
    /// The columns to return (nil = all).
    public var columns: [String]?
    /// The filter.
    public var filter: FilterExpression?
    /// The ordering (the primary key breaks ties, so paging is stable).
    public var orderBy: [OrderBy]
    /// At most this many rows in all.
    public var top: Int?
    /// Rows per page (at most 5,000).
    public var pageSize: Int
    /// The cookie from the previous page.
    public var pagingCookie: String?
    /// Whether to count all matching rows.
    public var includeCount: Bool
    /// Related records to read with each page (`$expand`): lookup column → the target's columns.
    public var expand: [String: [String]]

    /// Creates a query.
    public init(entity: String, columns: [String]? = nil, filter: FilterExpression? = nil,
                orderBy: [OrderBy] = [], top: Int? = nil, pageSize: Int = 5000,
                pagingCookie: String? = nil, includeCount: Bool = false, expand: [String: [String]] = [:]) {
        self.expand = expand
        self.entity = entity
        self.columns = columns
        self.filter = filter
        self.orderBy = orderBy
        self.top = top
        self.pageSize = pageSize
        self.pagingCookie = pagingCookie
        self.includeCount = includeCount
    }
}

/// One page of query results.
public struct QueryPage: Sendable {
    /// The rows.
    public var records: [Record]
    /// True while more pages follow.
    public var moreRecords: Bool
    /// The cookie for the next page.
    public var pagingCookie: String?
    /// The number of matching rows, when asked for.
    public var totalCount: Int?

    /// Creates a page.
    public init(records: [Record], moreRecords: Bool, pagingCookie: String?, totalCount: Int? = nil) {
        self.records = records
        self.moreRecords = moreRecords
        self.pagingCookie = pagingCookie
        self.totalCount = totalCount
    }
}
