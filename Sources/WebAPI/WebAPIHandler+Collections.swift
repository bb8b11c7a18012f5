import DataFiles
import EntityModel
import Foundation

extension WebAPIHandler {
    /// `GET {set}` (query or change tracking) and `POST {set}` (create).
    func collection(_ call: Call, _ definition: EntityDefinition) throws -> APIResponse {
        switch call.request.method {
        case "GET":
            let tracking = call.preferences.trackChanges || call.options["$deltatoken"] != nil
                || call.options["$skiptoken"]?.hasPrefix(Self.changesCookiePrefix) == true
            return tracking ? try changes(call, definition) : try query(call, definition)
        case "POST":
            return try create(call, definition)
        default:
            throw ServiceError(.methodNotAllowed, "The requested resource does not support http method '\(call.request.method)'.")
        }
    }

    /// The cap of `$count` and `totalrecordcount` (SPEC §6 rule 10).
    enum EntityCountCap { static let value = 5000 }

    /// Marks a `$skiptoken` as a change-feed page, so a next link is read as one without the header.
    static let changesCookiePrefix = "ct-"

    private func query(_ call: Call, _ definition: EntityDefinition) throws -> APIResponse {
        let expand = try ExpandOption(call.options["$expand"], definition)
        let options = call.options
        let pageSize = call.preferences.maxPageSize
        var query = Query(entity: definition.name, columns: Self.columns(call.select, withLookupsOf: expand),
                          filter: try options["$filter"].map(FilterParser.parse),
                          orderBy: try options["$orderby"].map(OrderBy.parse) ?? [],
                          top: pageSize == nil ? try Self.top(options) : nil,
                          pageSize: pageSize ?? 5000, pagingCookie: try Self.skipToken(options),
                          includeCount: try Self.flag(options, "$count"), expand: expand.engineExpand(call.catalog))
        if query.columns?.isEmpty == true { query.columns = nil }
        guard case .records(var page) = try execute(.retrieveMultiple(query)) else {
            throw ServiceError(.internalError, "The service answered a query with something other than records.")
        }
        try attachTargeted(&page.records, expand, call.catalog)
        var members: [(String, JSONValue)] = [("@odata.context", .string(collectionContext(call, definition, expand)))]
        if let total = page.totalCount { members.append(("@odata.count", .number(String(total)))) }
        let countAnnotation = "Microsoft.Dynamics.CRM.totalrecordcount"
        if call.preferences.includesAnnotation(countAnnotation) {
            members.append(("@\(countAnnotation)", .number(String(page.totalCount ?? -1))))
        }
        if call.preferences.includesAnnotation(countAnnotation + "limitexceeded") {
            members.append(("@\(countAnnotation)limitexceeded", .bool((page.totalCount ?? 0) >= EntityCountCap.value)))
        }
        members.append(("value", .array(page.records.map { record in
            expand.inline(RecordJSON.object(record, definition, select: call.select, lookupNames: call.lookupNames), record, call.catalog)
        })))
        if page.moreRecords, let cookie = page.pagingCookie {
            members.append(("@odata.nextLink", .string(link(call, definition, options.replacing([("$skiptoken", cookie)])))))
        }
        let headers = pageSize.map { [("Preference-Applied", "odata.maxpagesize=\($0)")] } ?? []
        return .json(200, .object(members), headers: headers)
    }

    /// A change-tracking read: the initial load (`Prefer: odata.track-changes`) or a delta (`$deltatoken`).
    private func changes(_ call: Call, _ definition: EntityDefinition) throws -> APIResponse {
        let options = call.options
        for name in ["$filter", "$orderby", "$expand", "$top"] where options[name] != nil {
            throw ServiceError(.invalidKey, "The \"\(name)\" query parameter isn't supported when Change Tracking is enabled.")
        }
        let token = options["$deltatoken"]
        let cookie = options["$skiptoken"].map { $0.hasPrefix(Self.changesCookiePrefix) ? String($0.dropFirst(Self.changesCookiePrefix.count)) : $0 }
        let pageSize = call.preferences.maxPageSize
        let request = ChangesRequest(entity: definition.name, columns: call.select, token: token,
                                     pageSize: pageSize ?? 5000, pagingCookie: cookie)
        guard case .changes(let page) = try execute(.retrieveChanges(request)) else {
            throw ServiceError(.internalError, "The service answered a changes read with something other than changes.")
        }
        let deletedContext = "\(call.base)/$metadata#\(definition.setName)/$deletedEntity"
        let items: [JSONValue] = page.changes.map { item in
            switch item {
            case .newOrUpdated(let record): return RecordJSON.object(record, definition, select: call.select, lookupNames: call.lookupNames)
            case .removedOrDeleted(let reference):
                var members: [(String, JSONValue)] = [("@odata.context", .string(deletedContext)),
                                                      ("id", .string(reference.id?.description ?? "")), ("reason", .string("deleted"))]
                if let id = reference.id, let key = page.deletedKeys[id], !key.isEmpty {
                    members.append((RecordJSON.deletedKey, .object(key.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })))
                }
                return .object(members)
            }
        }
        let isDelta = token.map { !$0.isEmpty } ?? false
        var members: [(String, JSONValue)] = [
            ("@odata.context", .string(collectionContext(call, definition) + (isDelta ? "/$delta" : ""))),
            ("value", .array(items)),
        ]
        if page.moreRecords, let next = page.pagingCookie {
            let nextOptions = options.replacing([("$skiptoken", Self.changesCookiePrefix + next)])
            members.append(("@odata.nextLink", .string(link(call, definition, nextOptions))))
        } else if let dataToken = page.dataToken {
            members.append(("@odata.deltaLink", .string(link(call, definition, options.replacing([("$skiptoken", nil), ("$deltatoken", dataToken)])))))
        }
        var applied: [String] = call.preferences.trackChanges ? ["odata.track-changes"] : []
        if let pageSize { applied.append("odata.maxpagesize=\(pageSize)") }
        return .json(200, .object(members), headers: applied.isEmpty ? [] : [("Preference-Applied", applied.joined(separator: ","))])
    }

    /// `GET {set}/$count`: matching rows (capped at 5,000) or, with `$deltatoken`, changes since the token; plain text.
    func countOnly(_ call: Call, _ definition: EntityDefinition) throws -> APIResponse {
        if let token = call.options["$deltatoken"] {
            var total = 0
            var cookie: String?
            repeat {
                guard case .changes(let page) = try execute(.retrieveChanges(ChangesRequest(entity: definition.name, token: token, pagingCookie: cookie))) else {
                    throw ServiceError(.internalError, "The service answered a changes read with something other than changes.")
                }
                total += page.changes.count
                cookie = page.moreRecords ? page.pagingCookie : nil
            } while cookie != nil
            return .text(200, String(total))
        }
        let query = Query(entity: definition.name, columns: [definition.primaryIdAttribute],
                          filter: try call.options["$filter"].map(FilterParser.parse), pageSize: 1, includeCount: true)
        guard case .records(let page) = try execute(.retrieveMultiple(query)) else {
            throw ServiceError(.internalError, "The service answered a query with something other than records.")
        }
        return .text(200, String(page.totalCount ?? 0))
    }

    /// `<base>/$metadata#accounts(name)`.
    private func collectionContext(_ call: Call, _ definition: EntityDefinition, _ expand: ExpandOption? = nil) -> String {
        "\(call.base)/$metadata#\(definition.setName)\(Self.contextColumns(call.select, expand))"
    }

    private func link(_ call: Call, _ definition: EntityDefinition, _ options: QueryOptions) -> String {
        "\(call.base)/\(definition.setName)?\(options.encoded)"
    }

    private static func top(_ options: QueryOptions) throws -> Int? {
        guard let text = options["$top"] else { return nil }
        guard let top = Int(text), top >= 0 else { throw ServiceError(.invalidKey, "The value '\(text)' of $top is not a non-negative integer.") }
        return top
    }

    private static func skipToken(_ options: QueryOptions) throws -> String? {
        guard let text = options["$skiptoken"] else { return nil }
        // the store's paging cookie: "<rows returned>", "<rows returned>:<last id>", then the
        // last row's order values for a custom order (the store checks the rest)
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard Int(parts[0]) != nil, parts.count == 1 || RecordID(String(parts[1])) != nil else { throw ServiceError(.invalidKey, "The $skiptoken '\(text)' is not valid; follow @odata.nextLink unchanged.") }
        return text
    }

    private static func flag(_ options: QueryOptions, _ name: String) throws -> Bool {
        switch options[name] {
        case nil, "false": return false
        case "true": return true
        case let other?: throw ServiceError(.invalidKey, "The value '\(other)' of \(name) is not true or false.")
        }
    }
}
