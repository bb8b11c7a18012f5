import EntityModel
import GRDB
import GRDBSQLite

extension EntityStore {
    /// One target of an expanded lookup, read by a `LEFT JOIN` in the main statement.
    private struct JoinedTarget {
        let lookup: String
        let table: EntityTable
        let projection: Projection
        /// Where the target's columns start in the main statement's row.
        let offset: Int32
    }

    /// Reads the rows of `table` that `condition` selects (written against the alias `m`,
    /// followed by `tail`, e.g. its ORDER BY and LIMIT) as a page, with the related rows of the
    /// expanded lookups: large targets joined into the same statement (one B-tree seek per
    /// lookup in SQLite instead of collecting ids and querying them again), small ones (regions,
    /// users: they repeat on every page) read once per page with `IN (…)`.
    /// - Throws: `0x0` when a row points at a target that lacks a requested column.
    func rowPage(_ db: Database, _ table: EntityTable, _ projection: Projection, condition: String, tail: String,
                 _ arguments: [DatabaseValue], rowsExpected: Int, expand: [String: [String]]) throws -> RowPage {
        var joins: [String] = []
        var selects = projection.positions.map { "m.\(quoteIdentifier(table.storedColumns[$0]))" }
        var targets: [JoinedTarget] = []
        // targets without a requested column (`ownerid` → team has no `domainname`): only an error if a row points at one
        var lacking: [(column: String, wanted: [String], targets: [EntityTable])] = []
        var notJoined: [(column: String, wanted: [String])] = []
        for (column, wanted) in expand.sorted(by: { $0.key < $1.key }) {
            let lookup = logicalColumn(column)
            guard let tableColumn = table.columnByName[lookup] else { continue }
            let resolved = try (tableColumn.attribute.targets ?? []).map { try self.table($0) }
            guard try resolved.contains(where: { try Self.approximateRows(of: $0, db) >= expandJoinMinimumRows }) else {
                notJoined.append((lookup, wanted))
                continue
            }
            let capable = resolved.filter { target in wanted.allSatisfy { target.attributeByName[logicalColumn($0)] != nil } }
            if capable.count < resolved.count {
                lacking.append((lookup, wanted, resolved.filter { target in !capable.contains { $0 === target } }))
            }
            for target in capable {
                let alias = "x\(targets.count)"
                var on = "\(alias).\(quoteIdentifier(target.primaryKey)) = m.\(quoteIdentifier(lookup))"
                if let typeIndex = tableColumn.typeIndex {
                    on = "m.\(quoteIdentifier(table.storedColumns[typeIndex])) = '\(target.name.replacingOccurrences(of: "'", with: "''"))' AND " + on
                }
                joins.append("LEFT JOIN \(target.quotedTable) AS \(alias) ON \(on)")
                let targetProjection = self.projection(wanted, target)
                targets.append(JoinedTarget(lookup: lookup, table: target, projection: targetProjection, offset: Int32(selects.count)))
                selects += targetProjection.positions.map { "\(alias).\(quoteIdentifier(target.storedColumns[$0]))" }
            }
        }
        let sql = "SELECT \(selects.joined(separator: ", ")) FROM \(table.quotedTable) AS m \(joins.joined(separator: " ")) WHERE \(condition) \(tail)"
        var main = RowCollector(table, projection, offset: 0)
        main.reserve(rowsExpected)
        var joined = targets.map { RowCollector($0.table, $0.projection, offset: $0.offset) }
        var joinedRowOf = targets.map { _ in [Int32]() }
        // where each target's lookup value is among the main row's values: a joined row's id
        // is the id its lookup holds (the join matched on it), already read
        let lookupPositions = targets.map { target in projection.columns.firstIndex { $0.attribute.name == target.lookup } }
        try RawStatement.forEachRawRow(db, db.cachedStatement(sql: sql), arguments) { raw in
            main.append(raw)
            for index in targets.indices {
                // no match (a null lookup, or a row of another target): nothing related
                guard joined[index].hasPrimaryKey(raw) else { joinedRowOf[index].append(-1); continue }
                joinedRowOf[index].append(Int32(joined[index].count))
                joined[index].append(raw, id: lookupPositions[index].flatMap { main.lastRowReferenceID(at: $0) })
            }
        }
        let unrelated = main.page()
        for (column, wanted, lackingTargets) in lacking {
            guard let position = unrelated.columnIndex[column] else { continue }
            for row in 0..<unrelated.count {
                if case .reference(let reference) = unrelated.value(row: row, column: position),
                   let target = lackingTargets.first(where: { $0.name == reference.entity }) {
                    try checkColumns(wanted, target)  // names the missing column
                }
            }
        }
        var related = targets.indices.map { RelatedRows(column: targets[$0].lookup, page: joined[$0].page(), rowOf: joinedRowOf[$0]) }
        for (column, wanted) in notJoined {
            related += try relatedRowsByID(unrelated, column: column, wanted: wanted, db)
        }
        return unrelated.with(related: related)
    }

    /// Reads the rows a page's lookup `column` points at, in a few `IN (…)` queries per target
    /// entity, one related page per target.
    /// - Throws: `0x0` when a requested column does not exist in a target a row points at.
    func relatedRowsByID(_ page: RowPage, column: String, wanted: [String], _ db: Database) throws -> [RelatedRows] {
        guard let position = page.columnIndex[column] else { return [] }
        // one pass over the page: each target's distinct ids, and each row's target and the
        // place of its id among them (one hash of the id per row)
        var targets: [(name: String, ids: [RecordID], slotOf: [RecordID: Int32])] = []
        var targetOfRow = [Int32](repeating: -1, count: page.count)
        var slotOfRow = [Int32](repeating: -1, count: page.count)
        for row in 0..<page.count {
            guard case .reference(let reference) = page.value(row: row, column: position), let id = reference.id else { continue }
            var index = targets.firstIndex { $0.name == reference.entity } ?? -1
            if index < 0 {
                targets.append((reference.entity, [], [:]))
                index = targets.count - 1
            }
            if let slot = targets[index].slotOf[id] {
                slotOfRow[row] = slot
            } else {
                let slot = Int32(targets[index].ids.count)
                targets[index].ids.append(id)
                targets[index].slotOf[id] = slot
                slotOfRow[row] = slot
            }
            targetOfRow[row] = Int32(index)
        }
        var result: [RelatedRows] = []
        for index in targets.indices.sorted(by: { targets[$0].name < targets[$1].name }) {
            let target = try table(targets[index].name)
            try checkColumns(wanted, target)
            let targetProjection = projection(wanted, target)
            var rows = RowCollector(target, targetProjection, offset: 0)
            let list = targets[index].ids
            for start in stride(from: 0, to: list.count, by: 500) {
                let chunk = list[start..<min(start + 500, list.count)]
                let sql = "SELECT \(targetProjection.selectList) FROM \(target.quotedTable) WHERE \(quoteIdentifier(target.primaryKey)) IN (\(Array(repeating: "?", count: chunk.count).joined(separator: ", ")))"
                try RawStatement.forEachRawRow(db, db.cachedStatement(sql: sql), chunk.map { $0.description.databaseValue }) { raw in
                    rows.append(raw)
                }
            }
            let relatedPage = rows.page()
            // where each id's row came back (-1: no such record)
            var rowOfSlot = [Int32](repeating: -1, count: list.count)
            for row in 0..<relatedPage.count {
                if let id = relatedPage.ids[row], let slot = targets[index].slotOf[id] { rowOfSlot[Int(slot)] = Int32(row) }
            }
            let rowOf = (0..<page.count).map { row -> Int32 in
                targetOfRow[row] == Int32(index) ? rowOfSlot[Int(slotOfRow[row])] : -1
            }
            result.append(RelatedRows(column: column, page: relatedPage, rowOf: rowOf, isShared: true))
        }
        return result
    }

    /// Reads the rows a statement selecting `projection.selectList` returns, as a page.
    func rowPage(_ db: Database, _ sql: String, _ arguments: [DatabaseValue], _ table: EntityTable, _ projection: Projection,
                 rowsExpected: Int) throws -> RowPage {
        var rows = RowCollector(table, projection, offset: 0)
        rows.reserve(rowsExpected)
        try RawStatement.forEachRawRow(db, db.cachedStatement(sql: sql), arguments) { raw in rows.append(raw) }
        return rows.page()
    }

    /// The largest rowid: the row count of a table rows are rarely deleted from, in one seek.
    private static func approximateRows(of table: EntityTable, _ db: Database) throws -> Int64 {
        try Int64.fetchOne(db.cachedStatement(sql: "SELECT max(rowid) FROM \(table.quotedTable)")) ?? 0
    }
}

/// Collects a projection's values from statement rows whose projected columns start at
/// `offset` (in `projection.positions` order), converted as `EntityStore.record(from:)` does.
private struct RowCollector {
    let table: EntityTable
    let projection: EntityStore.Projection
    /// For each projected column, what reading its value needs: its kind and decimal places,
    /// and where its value and its lookup's type (-1: none) are in the statement's row. Plain
    /// values, so reading a row retains nothing per column.
    private struct Reader {
        let kind: AttributeKind
        let scale: Int
        let value: Int32
        let type: Int32
    }
    private let readers: [Reader]
    private let primaryKey: Int32?
    private var values: [FieldValue] = []
    private var ids: [RecordID?] = []
    /// The values of lookup columns whose ids repeat from row to row.
    private var repeated: RepeatedReferences

    init(_ table: EntityTable, _ projection: EntityStore.Projection, offset: Int32) {
        self.table = table
        self.projection = projection
        var place: [Int: Int32] = [:]
        for (index, position) in projection.positions.enumerated() { place[position] = offset + Int32(index) }
        readers = projection.columns.map { column in
            Reader(kind: column.type, scale: column.scale, value: place[column.index]!, type: column.typeIndex.flatMap { place[$0] } ?? -1)
        }
        primaryKey = place[table.primaryKeyIndex]
        repeated = RepeatedReferences(columns: readers.count)
    }

    var count: Int { ids.count }

    /// True when the row has this table's primary key (a joined target that matched).
    func hasPrimaryKey(_ raw: SQLiteStatement) -> Bool {
        primaryKey.map { sqlite3_column_type(raw, $0) != SQLITE_NULL } ?? false
    }

    /// Room for `rows` rows (a page's size), so the arrays are not copied as they grow.
    mutating func reserve(_ rows: Int) {
        values.reserveCapacity(rows * projection.columns.count)
        ids.reserveCapacity(rows)
    }

    /// Reads the row the statement is on. `id`, when given, is its primary key, already known
    /// (a joined row's: the id of the lookup that matched it), which is then not read again.
    mutating func append(_ raw: SQLiteStatement, id: RecordID? = nil) {
        for position in readers.indices {
            let reader = readers[position]
            let lookupType = reader.type < 0 ? nil : String.fromDatabaseValue(DatabaseValue(sqliteStatement: raw, index: reader.type))
            let repeats = reader.kind == .lookup || reader.kind == .owner
            if repeats, let value = repeated.find(raw, reader.value, column: Int32(position), type: lookupType) {
                values.append(value)
                continue
            }
            let value = ValueCodec.fieldValue(raw, reader.value, kind: reader.kind, scale: reader.scale, lookupType: lookupType,
                                              column: projection.columns[position])
            if repeats { repeated.keep(value) }
            values.append(value)
        }
        if let id {
            ids.append(id)
        } else {
            ids.append(primaryKey.flatMap { ValueCodec.storedID(raw, $0) })
        }
    }

    /// The id of the reference at `position` (a projected column) of the last row read.
    func lastRowReferenceID(at position: Int) -> RecordID? {
        guard case .reference(let reference) = values[values.count - readers.count + position] else { return nil }
        return reference.id
    }

    func page(related: [RelatedRows] = []) -> RowPage {
        RowPage(entity: table.name, columns: projection.columns.map(\.attribute.name), values: values, ids: ids, related: related)
    }
}

/// The values of lookup columns a page reads again and again: a page's rows point at the same
/// few regions and owners, and each of their ids was parsed and a reference made per row.
/// Kept in direct-mapped slots by the stored id's bytes (and the lookup's type), so an id seen
/// before costs a comparison of 36 bytes. A column whose ids rarely repeat (a contact per
/// account) stops using the slots after its first rows.
private struct RepeatedReferences {
    private typealias Words = (UInt64, UInt64, UInt64, UInt64, UInt32)
    private struct Slot {
        var words: Words
        var column: Int32
        var type: String?
        var value: FieldValue
    }
    private static let slotCount = 256
    /// Lookups a column is tried on before it is judged; at least half of them must have hit.
    private static let trialLookups = 512
    private var slots: [Slot?]
    /// Per column: lookups tried and found; `tried` is -1 for a column that stopped.
    private var tried: [Int]
    private var found: [Int]
    /// The last `find` that missed: where its value goes (`keep`).
    private var missed: Slot?
    private var missedSlot = 0

    init(columns: Int) {
        slots = Array(repeating: nil, count: Self.slotCount)
        tried = Array(repeating: 0, count: columns)
        found = Array(repeating: 0, count: columns)
    }

    /// The value kept for the id text in column `index` of the row the statement is on (the
    /// projection's column `column`) with lookup type `type`; nil when none is, and then the
    /// value read next is kept by `keep`.
    mutating func find(_ raw: SQLiteStatement, _ index: Int32, column: Int32, type: String?) -> FieldValue? {
        missed = nil
        let position = Int(column)
        guard tried[position] >= 0, sqlite3_column_type(raw, index) == SQLITE_TEXT,
              let text = sqlite3_column_text(raw, index), sqlite3_column_bytes(raw, index) == 36 else { return nil }
        let bytes = UnsafeRawPointer(text)
        let words: Words = (bytes.loadUnaligned(as: UInt64.self), bytes.loadUnaligned(fromByteOffset: 8, as: UInt64.self),
                            bytes.loadUnaligned(fromByteOffset: 16, as: UInt64.self), bytes.loadUnaligned(fromByteOffset: 24, as: UInt64.self),
                            bytes.loadUnaligned(fromByteOffset: 32, as: UInt32.self))
        var hash = words.0 ^ words.1 &* 31 ^ words.2 &* 131 ^ words.3 &* 1_031 ^ UInt64(words.4) ^ UInt64(UInt32(bitPattern: column)) &* 7
        hash = (hash ^ hash >> 29) &* 0xbf58_476d_1ce4_e5b9
        let slot = Int(truncatingIfNeeded: hash >> 40) & (Self.slotCount - 1)
        tried[position] += 1
        if let known = slots[slot], known.column == column, known.words == words, known.type == type {
            found[position] += 1
            return known.value
        }
        if tried[position] >= Self.trialLookups && found[position] * 2 < tried[position] {
            tried[position] = -1  // mostly new ids: not worth keeping
            return nil
        }
        missed = Slot(words: words, column: column, type: type, value: .null)
        missedSlot = slot
        return nil
    }

    /// Keeps the value read after a `find` that missed.
    mutating func keep(_ value: FieldValue) {
        guard var slot = missed.take() else { return }
        slot.value = value
        slots[missedSlot] = slot
    }
}
