import DataFiles
import EntityModel
import Foundation

extension WebAPIClient {
    /// A query page. The paging cookie is the server's next link (with the rows still
    /// allowed by `top` in front, when there is a `top`).
    func runQuery(_ query: Query) throws -> QueryPage {
        let definition = try self.definition(query.entity)
        let pageSize = min(max(query.pageSize, 1), 5000)
        var remaining = query.top
        var path: String
        if let cookie = query.pagingCookie, !cookie.isEmpty {
            let parts = cookie.split(separator: "|", maxSplits: 1).map(String.init)
            if parts.count == 2, let left = Int(parts[0]) { remaining = left; path = parts[1] } else { path = cookie }
        } else {
            var items: [(String, String)] = []
            if let columns = query.columns { items.append(("$select", columns.joined(separator: ","))) }
            if let filter = query.filter { items.append(("$filter", filter.odataText)) }
            if !query.orderBy.isEmpty {
                items.append(("$orderby", query.orderBy.map { "\($0.column)\($0.descending ? " desc" : "")" }.joined(separator: ",")))
            }
            if query.includeCount { items.append(("$count", "true")) }
            if let expand = Self.expandOption(query.expand) { items.append(("$expand", expand)) }
            path = "\(definition.setName)?\(QueryOptions(items: items).encoded)"
        }
        let size = min(pageSize, remaining ?? pageSize)
        if size == 0 { return QueryPage(records: [], moreRecords: false, pagingCookie: nil) }
        let response = try check(transport.send("GET", url(path), headers: [
            "Prefer": "odata.maxpagesize=\(size),odata.include-annotations=\"\(RecordJSON.lookupLogicalName)\"",
        ]), entity: definition.name)
        let json = try JSONValue.parse(response.body)
        let rows = json["value"]?.arrayValue ?? []
        var records = try rows.map { try ClientDecoding.record($0, definition) }
        try attachInline(&records, rows: rows, query.expand)
        if let limit = remaining, records.count > limit { records.removeLast(records.count - limit) }
        let left = remaining.map { $0 - records.count }
        var next = json["@odata.nextLink"]?.stringValue
        if left == 0 { next = nil }
        let cookie = next.map { link in left.map { "\($0)|\(link)" } ?? link }
        return QueryPage(records: records, moreRecords: cookie != nil, pagingCookie: cookie,
                         totalCount: json["@odata.count"]?.numberText.flatMap(Int.init))
    }

    /// A page of changes; the cookie is the server's next link, the token its `$deltatoken`.
    func changes(_ request: ChangesRequest) throws -> EntityChanges {
        let definition = try self.definition(request.entity)
        if request.tokenOnly { return try tokenForNow(definition) }
        var path: String
        if let cookie = request.pagingCookie, !cookie.isEmpty {
            path = cookie
        } else {
            var items: [(String, String)] = []
            if let columns = request.columns {
                // the lookups to expand are read with the rows, selected or not (as the engine does)
                let lookups = request.expand.keys.sorted().filter { !columns.contains($0) }
                items.append(("$select", (columns + lookups).joined(separator: ",")))
            }
            if let token = request.token, !token.isEmpty { items.append(("$deltatoken", token)) }
            path = "\(definition.setName)?\(QueryOptions(items: items).encoded)"
        }
        let pageSize = min(max(request.pageSize, 1), 5000)
        let response = try check(transport.send("GET", url(path), headers: [
            "Prefer": "odata.track-changes,odata.maxpagesize=\(pageSize),odata.include-annotations=\"\(RecordJSON.lookupLogicalName)\"",
        ]), entity: definition.name)
        let json = try JSONValue.parse(response.body)
        var deletedKeys: [RecordID: [String: String]] = [:]
        var items: [ChangeItem] = try (json["value"]?.arrayValue ?? []).map { row in
            if row["reason"]?.stringValue == "deleted", let id = row["id"]?.stringValue.flatMap(RecordID.init) {
                if let members = row[RecordJSON.deletedKey]?.objectMembers {
                    let key = members.reduce(into: [String: String]()) { key, member in
                        if let value = member.1.stringValue { key[member.0] = value }
                    }
                    if !key.isEmpty { deletedKeys[id] = key }
                }
                return .removedOrDeleted(EntityReference(definition.name, id: id))
            }
            return .newOrUpdated(try ClientDecoding.record(row, definition))
        }
        try attachRelated(&items, request.expand)
        let next = json["@odata.nextLink"]?.stringValue
        let token = json["@odata.deltaLink"]?.stringValue.flatMap(Self.deltaToken)
        return EntityChanges(changes: items, moreRecords: next != nil, pagingCookie: next, dataToken: next == nil ? token : nil,
                             deletedKeys: deletedKeys)
    }

    /// A token for "now": the initial load is read to its end (ids only) for its delta link.
    private func tokenForNow(_ definition: EntityDefinition) throws -> EntityChanges {
        var cookie: String?
        repeat {
            let page = try changes(ChangesRequest(entity: definition.name, columns: [definition.primaryIdAttribute], pagingCookie: cookie))
            if !page.moreRecords { return EntityChanges(changes: [], moreRecords: false, pagingCookie: nil, dataToken: page.dataToken) }
            cookie = page.pagingCookie
        } while true
    }

    /// The decoded `$deltatoken` of a delta link.
    static func deltaToken(_ link: String) -> String? {
        guard let query = link.split(separator: "?", maxSplits: 1).last,
              let options = try? QueryOptions(raw: String(query)) else { return nil }
        return options["$deltatoken"]
    }
}
