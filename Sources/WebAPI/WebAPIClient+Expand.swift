import DataFiles
import EntityModel
import Foundation

extension WebAPIClient {
    /// Ids per `$filter` when related records are read by id (keeps each URL short).
    static let idsPerRelatedQuery = 100

    /// `$expand` for a query: `primarycontactid($select=emailaddress1),regionid($select=code)`.
    static func expandOption(_ expand: [String: [String]]) -> String? {
        guard !expand.isEmpty else { return nil }
        return expand.keys.sorted().map { "\($0)($select=\(expand[$0]!.joined(separator: ",")))" }.joined(separator: ",")
    }

    /// Reads the related records a query's rows carry inline (the server's `$expand`).
    func attachInline(_ records: inout [Record], rows: [JSONValue], _ expand: [String: [String]]) throws {
        guard !expand.isEmpty else { return }
        for (index, row) in rows.enumerated() where index < records.count {
            for column in expand.keys {
                guard case .object? = row[column], case .reference(let reference)? = records[index].fields[column] else { continue }
                records[index].related[column] = try ClientDecoding.record(row[column]!, try definition(reference.entity))
            }
        }
    }

    /// Reads the related records of a page of changes. The Web API rejects `$expand` with change
    /// tracking, so they are read by id: one `$batch` of queries per page, whatever the page's size.
    /// - Throws: the server's error for a failed read.
    func attachRelated(_ changes: inout [ChangeItem], _ expand: [String: [String]]) throws {
        guard !expand.isEmpty else { return }
        var idsByTarget: [String: Set<RecordID>] = [:]
        var columnsByTarget: [String: Set<String>] = [:]
        for case .newOrUpdated(let record) in changes {
            for (column, wanted) in expand {
                guard case .reference(let reference)? = record.fields[column], let id = reference.id else { continue }
                idsByTarget[reference.entity, default: []].insert(id)
                columnsByTarget[reference.entity, default: []].formUnion(wanted)
            }
        }
        guard !idsByTarget.isEmpty else { return }
        let found = try readByID(idsByTarget, columnsByTarget)
        for index in changes.indices {
            guard case .newOrUpdated(var record) = changes[index] else { continue }
            for column in expand.keys {
                if case .reference(let reference)? = record.fields[column], let id = reference.id, let related = found[id] {
                    record.related[column] = related
                }
            }
            changes[index] = .newOrUpdated(record)
        }
    }

    /// Records by id, read with `$filter=<pk> eq … or …` queries sent together as one `$batch`.
    private func readByID(_ idsByTarget: [String: Set<RecordID>], _ columnsByTarget: [String: Set<String>]) throws -> [RecordID: Record] {
        var plans: [RequestPlan] = []
        var targets: [EntityDefinition] = []
        for (entity, ids) in idsByTarget.sorted(by: { $0.key < $1.key }) {
            let target = try definition(entity)
            let columns = [target.primaryIdAttribute] + columnsByTarget[entity, default: []].sorted()
            let sorted = ids.map(\.description).sorted()
            for start in stride(from: 0, to: sorted.count, by: Self.idsPerRelatedQuery) {
                let filter = sorted[start..<min(start + Self.idsPerRelatedQuery, sorted.count)]
                    .map { "\(target.primaryIdAttribute) eq \($0)" }.joined(separator: " or ")
                let options = QueryOptions(items: [("$select", columns.joined(separator: ",")), ("$filter", filter)])
                plans.append(RequestPlan(method: "GET", path: "\(target.setName)?\(options.encoded)",
                                         headers: ["Prefer": "odata.include-annotations=\"\(RecordJSON.lookupLogicalName)\""]) { _ in .records(QueryPage(records: [], moreRecords: false, pagingCookie: nil)) })
                targets.append(target)
            }
        }
        let responses = try sendBatch(plans.map { part($0, contentID: nil) }, changeSet: false, continueOnError: false)
        if let failed = responses.first(where: { $0.status >= 400 }) { throw ServiceErrorFactory.from(failed) }
        guard responses.count == plans.count else {
            throw ServiceError(.payloadError, "The server answered \(responses.count) of the \(plans.count) reads of related records.")
        }
        var found: [RecordID: Record] = [:]
        for (response, target) in zip(responses, targets) {
            for row in try JSONValue.parse(response.body)["value"]?.arrayValue ?? [] {
                let related = try ClientDecoding.record(row, target)
                if let id = related.id { found[id] = related }
            }
        }
        return found
    }
}
