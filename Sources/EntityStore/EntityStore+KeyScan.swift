import Dispatch
import EntityModel
import GRDB
import KeyTables

extension EntityStore: KeyColumnScanning {
    /// Most ids bound to one `IN (…)` query when reading the missing rows back.
    private static let idsPerQuery = 500

    /// Keys handed to a key-set check at a time.
    static let keysPerCheck = 2048

    /// Reads the primary key and `column` of every row in one statement; only the rows the
    /// caller does not know become records. See `KeyColumnScanning`.
    public func scanKeyColumn(entity: String, column: String, columns: [String], filter: FilterExpression?,
                              areKnown: (inout PackedKeys, inout [Bool]) -> Void) throws -> KeyScanResult? {
        // the pipeline's queue calls it only until the scan returns (`finish`)
        try withoutActuallyEscaping(areKnown) { areKnown in try scanKeyColumn(entity, column, columns, filter, areKnown) }
    }

    private func scanKeyColumn(_ entity: String, _ column: String, _ columns: [String], _ filter: FilterExpression?,
                               _ areKnown: @escaping (inout PackedKeys, inout [Bool]) -> Void) throws -> KeyScanResult? {
        try read { db in
            let table = try table(entity)
            try checkColumns([column] + columns, table)
            guard let attribute = table.attributeByName[column], attribute.type == .string || attribute.type == .memo else { return nil }
            let primaryKey = quoteIdentifier(table.primaryKey)
            let key = quoteIdentifier(column)
            var considered = 0, unkeyed = 0
            // the missing rows, found again by rowid (the key scan) or by primary key (the table scan)
            var missingRows: [DatabaseValue] = []
            // keys go to `areKnown` in batches, with their rows' rowids (the key scan) or ids; a
            // batch is checked on a second thread while the scan reads the next one
            let checker = KeyCheckPipeline(areKnown: areKnown)
            defer { checker.finish() }
            var batch = KeyScanBatch()
            func check() {
                if let checked = checker.handOff(batch) {
                    for (index, known) in checked.answers.enumerated() where !known {
                        missingRows.append(checked.rowids.isEmpty
                            ? checked.ids.withKey(index) { String(decoding: $0, as: UTF8.self) }.databaseValue
                            : checked.rowids[index].databaseValue)
                    }
                    checked.removeAll()
                    batch = checked
                } else {
                    batch = KeyScanBatch()
                }
            }
            let locator: String
            if filter == nil, table.singleColumnKeys[column] != nil {
                locator = "rowid"
                // an Active key has a partial index on the column that also holds each row's rowid:
                // reading it is a fraction of reading the table
                let total = try Int.fetchOne(db.cachedStatement(sql: "SELECT count(*) FROM \(table.quotedTable)")) ?? 0
                let sql = "SELECT rowid, \(key) FROM \(table.quotedTable) WHERE \(key) IS NOT NULL"
                try RawStatement.forEachRawRow(db, db.makeStatement(sql: sql), []) { raw in
                    considered += 1
                    guard let value = RawStatement.textBytes(raw, 1) else { return }
                    batch.keys.append(value)
                    batch.rowids.append(RawStatement.integer(raw, 0))
                    if batch.keys.count == Self.keysPerCheck { check() }
                }
                unkeyed = total - considered
                considered = total
            } else {
                locator = primaryKey
                var arguments: [DatabaseValue] = []
                let whereSQL = try filter.map { try filterSQL(for: $0, table, &arguments) } ?? "1"
                let sql = "SELECT \(primaryKey), \(key) FROM \(table.quotedTable) WHERE \(whereSQL)"
                try RawStatement.forEachRawRow(db, db.makeStatement(sql: sql), arguments) { raw in
                    considered += 1
                    guard let value = RawStatement.textBytes(raw, 1), let id = RawStatement.textBytes(raw, 0) else { unkeyed += 1; return }
                    batch.keys.append(value)
                    batch.ids.append(id)
                    if batch.keys.count == Self.keysPerCheck { check() }
                }
            }
            if batch.keys.count > 0 { check() }
            check()  // hands off an empty batch: collects the last one checked
            let projection = projection([column] + columns, table)
            var missing: [Record] = []
            missing.reserveCapacity(missingRows.count)
            for start in stride(from: 0, to: missingRows.count, by: Self.idsPerQuery) {
                let chunk = missingRows[start..<min(start + Self.idsPerQuery, missingRows.count)]
                let placeholders = Array(repeating: "?", count: chunk.count).joined(separator: ", ")
                let select = "SELECT \(projection.selectList) FROM \(table.quotedTable) WHERE \(locator) IN (\(placeholders))"
                missing += try records(db, select, Array(chunk), table, projection)
            }
            missing.sort { ($0.id?.description ?? "") < ($1.id?.description ?? "") }
            return KeyScanResult(considered: considered, unkeyed: unkeyed, missing: missing)
        }
    }
}

/// The keys of a key scan's batch, with their rows' rowids or ids, and the answers `areKnown` gave.
final class KeyScanBatch: @unchecked Sendable {
    var keys = PackedKeys(capacity: EntityStore.keysPerCheck)
    var rowids: [Int64] = []
    var ids = PackedKeys(capacity: EntityStore.keysPerCheck, averageLength: 36)
    var answers: [Bool] = []

    func removeAll() {
        keys.removeAll()
        rowids.removeAll(keepingCapacity: true)
        ids.removeAll()
        answers.removeAll(keepingCapacity: true)
    }
}

/// Checks a key scan's batches on a serial queue of their own, one batch at a time, while the
/// scan reads the next: the key set's probes (mostly cache misses) and SQLite's scan then use
/// both cores. `areKnown` runs on that queue, one call at a time, while the caller is inside
/// the scan (it must not touch the key set meanwhile: `cds.missing` is a binding, so the script
/// waits). `finish` waits for the batch in flight; the scan calls it before returning, also
/// when it throws, so `areKnown` never outlives the call that was given it.
final class KeyCheckPipeline: @unchecked Sendable {
    private let queue = DispatchQueue(label: "cdsync.key-scan")
    private let areKnown: (inout PackedKeys, inout [Bool]) -> Void
    private var inFlight: KeyScanBatch?

    init(areKnown: @escaping (inout PackedKeys, inout [Bool]) -> Void) {
        self.areKnown = areKnown
    }

    /// Queues `batch` for checking (unless empty) and returns the batch checked before it,
    /// once its answers are in.
    func handOff(_ batch: KeyScanBatch) -> KeyScanBatch? {
        let previous = inFlight
        if previous != nil { queue.sync {} }
        if batch.keys.count > 0 {
            inFlight = batch
            queue.async { [self] in areKnown(&batch.keys, &batch.answers) }
        } else {
            inFlight = nil
        }
        return previous
    }

    /// Waits for the batch in flight, if any.
    func finish() {
        if inFlight != nil { queue.sync {} }
        inFlight = nil
    }
}
