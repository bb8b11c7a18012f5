/// Rows of one entity as a store read them: each row's values in `columns` order, with the
/// related rows of expanded lookups. It carries what a `Record` per row would (see
/// `record(at:)`), without a dictionary per row and per related record, for a caller that
/// turns each row into something else (the change loop of a script turns each into a Lua
/// table).
public final class RowPage: Sendable {
    /// The entity's logical name.
    public let entity: String
    /// The logical column names, in the order of each row's values.
    public let columns: [String]
    /// The values, row after row, `columns.count` per row. (A page made by `prefix` shares
    /// its storage: read only its first `count` rows.)
    public let values: [FieldValue]
    /// Each row's primary key (the first `count` are the page's).
    public let ids: [RecordID?]
    /// The rows expanded lookups point at.
    public let related: [RelatedRows]
    /// The position of each column in `columns`.
    public let columnIndex: [String: Int]
    /// The rows in the page (the first `count` of `ids`).
    public let count: Int
    /// A record's fields with every column null, and where each column's value sits in it: a
    /// record starts as a copy and sets its values by position, hashing no names per record.
    private let fieldTemplate: [String: FieldValue]
    private let fieldSlots: [Dictionary<String, FieldValue>.Index]
    /// For each column, the positions in `related` of its related rows (empty for most), so a
    /// row's related record is found without comparing column names.
    private let relatedSlots: [[Int]]

    /// Creates a page; `values` holds `ids.count` rows of `columns.count` values.
    public init(entity: String, columns: [String], values: [FieldValue], ids: [RecordID?], related: [RelatedRows] = []) {
        precondition(values.count == ids.count * columns.count, "a page needs one value per row and column")
        self.entity = entity
        self.columns = columns
        self.values = values
        self.ids = ids
        self.related = related
        columnIndex = Dictionary(columns.enumerated().map { ($0.element, $0.offset) }, uniquingKeysWith: { first, _ in first })
        count = ids.count
        var template = [String: FieldValue](minimumCapacity: columns.count)
        for column in columns { template[column] = .null }
        fieldSlots = columns.map { template.index(forKey: $0)! }
        fieldTemplate = template
        relatedSlots = Self.relatedSlots(columns, related)
    }

    private static func relatedSlots(_ columns: [String], _ related: [RelatedRows]) -> [[Int]] {
        columns.map { column in related.indices.filter { related[$0].column == column } }
    }

    private init(_ page: RowPage, count: Int, related: [RelatedRows]) {
        entity = page.entity
        columns = page.columns
        values = page.values
        ids = page.ids
        self.related = related
        columnIndex = page.columnIndex
        fieldTemplate = page.fieldTemplate
        fieldSlots = page.fieldSlots
        relatedSlots = related.count == page.related.count && zip(related, page.related).allSatisfy({ $0.column == $1.column })
            ? page.relatedSlots : Self.relatedSlots(page.columns, related)
        self.count = count
    }

    /// The first `count` rows (sharing this page's storage).
    public func prefix(_ count: Int) -> RowPage {
        count >= self.count ? self : RowPage(self, count: max(count, 0), related: related)
    }

    /// The same rows with `related` as their related rows (sharing this page's storage).
    public func with(related: [RelatedRows]) -> RowPage {
        RowPage(self, count: count, related: related)
    }

    /// The value of `column` (a position in `columns`) in `row`.
    public func value(row: Int, column: Int) -> FieldValue {
        values[row * columns.count + column]
    }

    /// The value of the named column in `row`, or nil when the page does not carry it.
    public func value(row: Int, column name: String) -> FieldValue? {
        columnIndex[name].map { value(row: row, column: $0) }
    }

    /// Where the related record that row `row`'s lookup at `position` (in `columns`) points at
    /// is, if read: `related[slot]`'s row `row`. `slot` and `row` together name one related
    /// record of this page.
    public func relatedPlace(of row: Int, columnAt position: Int) -> (slot: Int, row: Int)? {
        for slot in relatedSlots[position] {
            let index = related[slot].rowOf[row]
            if index >= 0 { return (slot, Int(index)) }
        }
        return nil
    }

    /// Row `row` as a record: every column (nulls included), and the related records read.
    public func record(at row: Int) -> Record {
        var fields = fieldTemplate
        for (index, slot) in fieldSlots.enumerated() { fields.values[slot] = value(row: row, column: index) }
        var record = Record(entity: entity, id: ids[row], fields: fields)
        for rows in related where rows.rowOf[row] >= 0 {
            record.related[rows.column] = rows.page.record(at: Int(rows.rowOf[row]))
        }
        return record
    }

    /// Every row as a record.
    public func records() -> [Record] {
        (0..<count).map(record(at:))
    }
}

/// The rows one expanded lookup column points at (of one target entity), and for each row of
/// the page that holds the lookup, the index of its related row (-1 when it points elsewhere
/// or nowhere).
public struct RelatedRows: Sendable {
    /// The lookup column (logical name).
    public let column: String
    /// The related rows.
    public let page: RowPage
    /// For each row of the page holding the lookup: the index in `page`, or -1.
    public let rowOf: [Int32]
    /// Rows pointing at the same record share its related row (read by id, once per record),
    /// rather than each having a row of its own (read in a join).
    public let isShared: Bool

    /// Creates the related rows of a lookup column.
    public init(column: String, page: RowPage, rowOf: [Int32], isShared: Bool = false) {
        self.column = column
        self.page = page
        self.rowOf = rowOf
        self.isShared = isShared
    }
}
