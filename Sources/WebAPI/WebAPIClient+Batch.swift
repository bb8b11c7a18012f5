import DataFiles
import EntityModel
import Foundation

extension WebAPIClient {
    /// The bulk messages as the Web API's actions (all or nothing on the server).
    func bulk(_ request: ServiceRequest) throws -> ServiceResponse {
        guard let entity = request.entity else { throw ServiceError(.invalidArgument, "A bulk request names its entity.") }
        let definition = try self.definition(entity)
        let type: (String, JSONValue) = ("@odata.type", .string("Microsoft.Dynamics.CRM.\(entity)"))
        let action: String
        var targets: [JSONValue] = []
        var ids: [RecordID] = []
        switch request {
        case .createMultiple(_, let records):
            action = "CreateMultiple"
            for record in records {
                var fields = record.fields
                if let id = record.id { fields[definition.primaryIdAttribute] = .guid(id) }
                targets.append(.object([type] + (try members(fields, definition))))
            }
        case .updateMultiple(_, let items):
            action = "UpdateMultiple"
            for (reference, fields) in items {
                let id = try resolveID(reference, definition)
                ids.append(id)
                var withID = fields
                withID[definition.primaryIdAttribute] = .guid(id)
                targets.append(.object([type] + (try members(withID, definition))))
            }
        case .upsertMultiple(_, let items):
            action = "UpsertMultiple"
            for (reference, fields) in items {
                let target: (String, JSONValue) = ("@odata.id", .string("\(definition.setName)(\(try predicate(reference, definition)))"))
                targets.append(.object([type, target] + (try members(fields, definition))))
            }
        default:
            throw ServiceError(.invalidArgument, "Not a bulk request.")
        }
        let body = try JSONValue.object([("Targets", .array(targets))]).serializedData()
        let response = try check(transport.send("POST", url("\(definition.setName)/Microsoft.Dynamics.CRM.\(action)"), body: body), entity: entity)
        switch request {
        case .createMultiple:
            let created = (try JSONValue.parse(response.body)["Ids"]?.arrayValue ?? []).compactMap { $0.stringValue.flatMap(RecordID.init) }
            return .createdMany(created)
        case .updateMultiple:
            return .many(ids.map { .updated(id: $0, changed: true, version: 0) })
        case .upsertMultiple(_, let items):
            return .many(try items.map { .upserted(id: try resolveID($0.0, definition), created: false, changed: true) })
        default:
            return .many([])
        }
    }

    /// ExecuteMultiple: one `$batch` of single-record requests, each in its own transaction on the server.
    /// Requests that have no single-request form run one by one instead.
    func executeMultiple(_ requests: [ServiceRequest], continueOnError: Bool, returnResponses: Bool) throws -> ServiceResponse {
        var items: [BatchItem] = []
        let plans: [RequestPlan]
        do { plans = try requests.map(plan) } catch {
            for (index, request) in requests.enumerated() {
                do { items.append(BatchItem(requestIndex: index, response: try execute(request), fault: nil)) } catch let fault as ServiceError {
                    items.append(BatchItem(requestIndex: index, response: nil, fault: fault.at(index: index)))
                    if !continueOnError { break }
                }
            }
            return Self.batchResponse(items, returnResponses: returnResponses)
        }
        let parts = try sendBatch(plans.map { part($0, contentID: nil) }, changeSet: false, continueOnError: continueOnError)
        for (index, response) in parts.enumerated() where index < plans.count {
            if response.status >= 400 {
                items.append(BatchItem(requestIndex: index, response: nil,
                                       fault: ServiceErrorFactory.from(response, entity: requests[index].entity).at(index: index)))
            } else {
                items.append(BatchItem(requestIndex: index, response: try plans[index].decode(response), fault: nil))
            }
        }
        return Self.batchResponse(items, returnResponses: returnResponses)
    }

    private static func batchResponse(_ items: [BatchItem], returnResponses: Bool) -> ServiceResponse {
        let faulted = items.contains { $0.fault != nil }
        return .batch(isFaulted: faulted, items: returnResponses ? items : items.filter { $0.fault != nil })
    }

    /// ExecuteTransaction: one `$batch` change set, all or nothing.
    /// - Throws: the failing request's error, with its index.
    func executeTransaction(_ requests: [ServiceRequest], returnResponses: Bool) throws -> ServiceResponse {
        let plans = try requests.map(plan)
        let parts = try sendBatch(plans.enumerated().map { part($1, contentID: String($0 + 1)) }, changeSet: true, continueOnError: false)
        if let failure = parts.first(where: { $0.status >= 400 }) {
            let index = failure.header("Content-ID").flatMap(Int.init).map { $0 - 1 } ?? 0
            throw ServiceErrorFactory.from(failure, entity: requests.indices.contains(index) ? requests[index].entity : nil).at(index: index)
        }
        return .transaction(returnResponses ? try zip(plans, parts).map { try $0.decode($1) } : [])
    }

    func part(_ plan: RequestPlan, contentID: String?) -> String {
        let base = URL(string: root)?.path ?? ResourcePath.root
        var text = "Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n"
        if let contentID { text += "Content-ID: \(contentID)\r\n" }
        text += "\r\n\(plan.method) \(base.hasSuffix("/") ? base : base + "/")\(plan.path) HTTP/1.1\r\n"
        for (name, value) in plan.headers.sorted(by: { $0.key < $1.key }) { text += "\(name): \(value)\r\n" }
        if let body = plan.body { text += "Content-Type: application/json\r\n\r\n" + String(decoding: body, as: UTF8.self) + "\r\n" } else { text += "\r\n" }
        return text
    }

    /// Sends parts as a `$batch` (optionally as one change set) and returns the response parts in order.
    func sendBatch(_ parts: [String], changeSet: Bool, continueOnError: Bool) throws -> [APIResponse] {
        let boundary = "batch_\(UUID().uuidString.lowercased())"
        var body = "--\(boundary)\r\n"
        if changeSet {
            let setBoundary = "changeset_\(UUID().uuidString.lowercased())"
            body += "Content-Type: multipart/mixed; boundary=\(setBoundary)\r\n\r\n"
            body += parts.map { "--\(setBoundary)\r\n" + $0 }.joined() + "--\(setBoundary)--\r\n"
        } else {
            body += parts.joined(separator: "--\(boundary)\r\n")
        }
        body += "--\(boundary)--\r\n"
        var headers = ["Content-Type": "multipart/mixed; boundary=\(boundary)"]
        if continueOnError { headers["Prefer"] = "odata.continue-on-error" }
        let response = try transport.send("POST", url("$batch"), headers: headers, body: Data(body.utf8))
        guard let responseBoundary = response.header("Content-Type").flatMap(Multipart.boundary) else {
            try check(response)
            throw ServiceError(.payloadError, "The server answered a batch without a multipart body.")
        }
        var responses: [APIResponse] = []
        for part in try Multipart.parse(String(decoding: response.body, as: UTF8.self), boundary: responseBoundary) {
            if let nested = part.headers["content-type"].flatMap(Multipart.boundary) {
                responses += try Multipart.parse(part.content, boundary: nested).map(Multipart.response)
            } else {
                responses.append(try Multipart.response(part))
            }
        }
        return responses
    }
}
