/// A CSV file's column names with a shared name-to-index lookup.
public final class CSVHeader: Sendable {
    /// The column names, in file order.
    public let names: [String]
    private let indexByName: [String: Int]

    /// Creates a header; when a name repeats, lookups find its first column.
    public init(names: [String]) {
        self.names = names
        var indexByName: [String: Int] = [:]
        for (index, name) in names.enumerated() where indexByName[name] == nil {
            indexByName[name] = index
        }
        self.indexByName = indexByName
    }

    /// The number of columns.
    public var count: Int { names.count }

    /// The index of the first column called `name`, or nil.
    public func index(of name: String) -> Int? { indexByName[name] }
}

/// One CSV data row: its fields, the line it starts on, and access by column name.
public struct CSVRecord: Sendable {
    /// The field values, one per header column.
    public let fields: [String]
    /// The 1-based physical line the record starts on (the header is line 1).
    public let line: Int
    /// The header shared by all records of the file.
    public let header: CSVHeader
    /// Indexes of empty unquoted fields, when the reader was told to treat them as null.
    public let nullFieldIndexes: [Int]

    /// Creates a record.
    public init(fields: [String], line: Int, header: CSVHeader, nullFieldIndexes: [Int] = []) {
        self.fields = fields
        self.line = line
        self.header = header
        self.nullFieldIndexes = nullFieldIndexes
    }

    /// The value in column `name`; nil when there is no such column or the field is null.
    public subscript(name: String) -> String? {
        guard let index = header.index(of: name), index < fields.count else { return nil }
        return isNull(at: index) ? nil : fields[index]
    }

    /// The value at column `index`.
    public subscript(index: Int) -> String { fields[index] }

    /// True when the field at `index` was empty and unquoted and the reader treats such fields as null.
    public func isNull(at index: Int) -> Bool {
        !nullFieldIndexes.isEmpty && nullFieldIndexes.contains(index)
    }
}
