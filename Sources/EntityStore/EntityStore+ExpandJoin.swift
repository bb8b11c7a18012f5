import EntityModel
import GRDB

extension EntityStore {
    /// One target of an expanded lookup, read by a `LEFT JOIN` in the main statement.
    private struct JoinedTarget {
        let lookup: String
        let table: EntityTable
        let projection: Projection
    }

    /// Reads the rows of `table` that `condition` selects (written against the alias `m`,
    /// followed by `tail`, e.g. its ORDER BY and LIMIT) as records, with the related records
    /// of the expanded lookups joined into the same statement: one B-tree seek per lookup in
    /// SQLite instead of collecting ids and querying them again. Targets that lack a requested
    /// column are not joined; if a row points at one, that lookup is read as before, by
    /// `attachRelated`, which names the missing column.
    func recordsJoiningExpanded(_ db: Database, _ table: EntityTable, _ projection: Projection, condition: String, tail: String,
                                _ arguments: [DatabaseValue], expand: [String: [String]]) throws -> [Record] {
        var joins: [String] = []
        var selects = projection.positions.map { "m.\(quoteIdentifier(table.storedColumns[$0]))" }
        var targets: [JoinedTarget] = []
        // targets without a requested column (`ownerid` → team has no `domainname`): only an error if a row points at one
        var lacking: [String: (wanted: [String], targets: Set<String>)] = [:]
        var notJoined: [String: [String]] = [:]
        for (column, wanted) in expand.sorted(by: { $0.key < $1.key }) {
            let lookup = logicalColumn(column)
            guard let tableColumn = table.columnByName[lookup] else { continue }
            let resolved = try (tableColumn.attribute.targets ?? []).map { try self.table($0) }
            // a small target (regions, users) repeats on every page: reading each of its rows
            // once per page with IN (…) beats a join's seek per row
            guard try resolved.contains(where: { try Self.approximateRows(of: $0, db) >= expandJoinMinimumRows }) else {
                notJoined[column] = wanted
                continue
            }
            let capable = resolved.filter { target in wanted.allSatisfy { target.attributeByName[logicalColumn($0)] != nil } }
            if capable.count < resolved.count { lacking[column] = (wanted, Set(resolved.map(\.name)).subtracting(capable.map(\.name))) }
            for target in capable {
                let alias = "x\(targets.count)"
                var on = "\(alias).\(quoteIdentifier(target.primaryKey)) = m.\(quoteIdentifier(lookup))"
                if let typeIndex = tableColumn.typeIndex {
                    on = "m.\(quoteIdentifier(table.storedColumns[typeIndex])) = '\(target.name.replacingOccurrences(of: "'", with: "''"))' AND " + on
                }
                joins.append("LEFT JOIN \(target.quotedTable) AS \(alias) ON \(on)")
                let targetProjection = self.projection(wanted, target)
                selects += targetProjection.positions.map { "\(alias).\(quoteIdentifier(target.storedColumns[$0]))" }
                targets.append(JoinedTarget(lookup: lookup, table: target, projection: targetProjection))
            }
        }
        let sql = "SELECT \(selects.joined(separator: ", ")) FROM \(table.quotedTable) AS m \(joins.joined(separator: " ")) WHERE \(condition) \(tail)"
        var result: [Record] = []
        var row = StoredRow(table)
        var relatedRows = targets.map { StoredRow($0.table) }
        try RawStatement.forEachRow(db, db.cachedStatement(sql: sql), arguments) { values in
            var offset = 0
            for position in projection.positions {
                row.values[position] = values[offset]
                offset += 1
            }
            var record = self.record(from: row, projection)
            for (index, target) in targets.enumerated() {
                for position in target.projection.positions {
                    relatedRows[index].values[position] = values[offset]
                    offset += 1
                }
                // no match (a null lookup, or a row of another target): nothing to attach
                guard let id = relatedRows[index].values[target.table.primaryKeyIndex], !id.isNull else { continue }
                record.related[target.lookup] = self.record(from: relatedRows[index], target.projection)
            }
            result.append(record)
        }
        for (column, lack) in lacking where result.contains(where: { record in
            if case .reference(let reference)? = record.fields[logicalColumn(column)] { return lack.targets.contains(reference.entity) }
            return false
        }) {
            notJoined[column] = lack.wanted  // read as before, which names the missing column
        }
        if !notJoined.isEmpty { try attachRelated(&result, notJoined, db) }
        return result
    }

    /// The largest rowid: the row count of a table rows are rarely deleted from, in one seek.
    private static func approximateRows(of table: EntityTable, _ db: Database) throws -> Int64 {
        try Int64.fetchOne(db.cachedStatement(sql: "SELECT max(rowid) FROM \(table.quotedTable)")) ?? 0
    }
}
