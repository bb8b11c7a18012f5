import EntityModel
import Foundation

extension WebAPIHandler {
    /// Ids per query when records of one target are read for `column_target` expansions.
    static let idsPerTargetedQuery = 200

    /// Retrieves one record and, when `$expand` asks, the records its lookups point at
    /// (a one-row query by id with the expansion: the engine's retrieve has none).
    func retrieve(_ reference: EntityReference, columns: [String]?, expand: ExpandOption, _ catalog: Catalog) throws -> Record {
        var record = try retrieve(reference, columns: Self.columns(columns, withLookupsOf: expand))
        guard !expand.isEmpty, let id = record.id, let definition = catalog.entity(named: reference.entity) else { return record }
        let query = Query(entity: definition.name, columns: [definition.primaryIdAttribute],
                          filter: .comparison(column: definition.primaryIdAttribute, op: .eq, value: .guid(id)),
                          top: 1, pageSize: 1, expand: expand.engineExpand(catalog))
        guard case .records(let page) = try execute(.retrieveMultiple(query)) else {
            throw ServiceError(.internalError, "The service answered a query with something other than records.")
        }
        record.related = page.records.first?.related ?? [:]
        var records = [record]
        try attachTargeted(&records, expand, catalog)
        return records[0]
    }

    /// The columns to read: the `$select` and the lookups followed, selected or not (as a
    /// query with expand returns them).
    static func columns(_ select: [String]?, withLookupsOf expand: ExpandOption) -> [String]? {
        guard let select else { return nil }
        let lookups = expand.items.map(\.column).filter { column in !select.contains { RecordJSON.logicalColumn($0) == column } }
        return select + Set(lookups).sorted()
    }

    /// Reads the related records of `column_target` expansions (`parentcustomerid_account`):
    /// the records of that target only, by id, with the columns asked for.
    /// - Throws: the service's error (`0x0` for a column the target does not have).
    func attachTargeted(_ records: inout [Record], _ expand: ExpandOption, _ catalog: Catalog) throws {
        for item in expand.items where item.isTargeted {
            guard let targetName = item.target, let target = catalog.entity(named: targetName) else { continue }
            let ids = Set(records.compactMap { record -> RecordID? in
                guard case .reference(let reference)? = record.fields[item.column], reference.entity == targetName else { return nil }
                return reference.id
            }).sorted { $0.description < $1.description }
            var found: [RecordID: Record] = [:]
            for start in stride(from: 0, to: ids.count, by: Self.idsPerTargetedQuery) {
                let chunk = ids[start..<min(start + Self.idsPerTargetedQuery, ids.count)]
                let filter = chunk.dropFirst().reduce(FilterExpression.comparison(column: target.primaryIdAttribute, op: .eq, value: .guid(chunk.first!))) {
                    .or($0, .comparison(column: target.primaryIdAttribute, op: .eq, value: .guid($1)))
                }
                let query = Query(entity: target.name, columns: expand.shownColumns(item, target), filter: filter, pageSize: Self.idsPerTargetedQuery)
                guard case .records(let page) = try execute(.retrieveMultiple(query)) else {
                    throw ServiceError(.internalError, "The service answered a query with something other than records.")
                }
                for related in page.records { if let id = related.id { found[id] = related } }
            }
            for index in records.indices {
                if case .reference(let reference)? = records[index].fields[item.column], let id = reference.id, let related = found[id] {
                    records[index].related[item.column] = related
                }
            }
        }
    }
}
