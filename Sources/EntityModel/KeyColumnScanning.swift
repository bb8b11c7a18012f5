import KeyTables

/// A service that can compare one text column of every row with a caller's key set without
/// building a record per row (the embedded store). `cds.missing` uses it when the service has
/// it; otherwise it pages through the rows as records.
public protocol KeyColumnScanning: AnyObject {
    /// Streams `column` of the entity's rows (those matching `filter`, when given) and hands the
    /// non-null values' UTF-8 bytes to `areKnown` a batch at a time, which sets one answer per
    /// key (it may change the keys' bytes, e.g. to fold case). Returns the rows answered false
    /// for, with their id, `column` and `columns`, in primary-key order; nil, having read
    /// nothing, when `column` does not hold text (the caller then compares records itself).
    /// - Throws: `0x0` for unknown columns, `0x8006088a` for an unknown entity, `query.invalid`
    ///   for a bad filter, `store.unavailable` when the store fails.
    func scanKeyColumn(entity: String, column: String, columns: [String], filter: FilterExpression?,
                       areKnown: (inout PackedKeys, inout [Bool]) -> Void) throws -> KeyScanResult?
}

/// What comparing a key column with a key set found.
public struct KeyScanResult: Sendable {
    /// Rows read.
    public var considered: Int
    /// Rows whose key column is null (they match nothing and are left out of `missing`).
    public var unkeyed: Int
    /// Rows whose key the set lacks.
    public var missing: [Record]

    /// Creates a result.
    public init(considered: Int, unkeyed: Int, missing: [Record]) {
        self.considered = considered
        self.unkeyed = unkeyed
        self.missing = missing
    }
}
