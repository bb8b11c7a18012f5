import DataFiles
import EntityModel
import Foundation

extension WebAPIHandler {
    /// `POST {set}`: create; 204 with `OData-EntityId`, or 201 with the record when asked.
    func create(_ call: Call, _ definition: EntityDefinition) throws -> APIResponse {
        let fields = try call.decoder.fields(try call.bodyObject(), for: definition)
        try checkRepresentationOptions(call, definition)
        let response = try execute(.create(entity: definition.name, id: nil, fields: fields))
        guard let id = response.recordID else { throw ServiceError(.internalError, "The service did not return the new record's id.") }
        let location = "\(call.base)/\(definition.setName)(\(id))"
        if call.preferences.returnRepresentation {
            return try representation(call, definition, EntityReference(definition.name, id: id), status: 201)
        }
        return .noContent([("OData-EntityId", location), ("Location", location)])
    }

    /// `GET`, `PATCH` (update or upsert) and `DELETE` of one record.
    func record(_ call: Call, _ definition: EntityDefinition, _ reference: EntityReference, rawPredicate: String) throws -> APIResponse {
        switch call.request.method {
        case "GET":
            let expand = try ExpandOption(call.options["$expand"], definition)
            let record = try retrieve(reference, columns: call.select, expand: expand, call.catalog)
            let etag = RecordJSON.etag(record)
            // never 304 with $expand: the related records may have changed (SPEC §2 rule 6)
            if expand.isEmpty, let wanted = call.request.header("if-none-match"), let etag, wanted == etag {
                return APIResponse(status: 304, headers: [("ETag", etag), ("OData-Version", "4.0")])
            }
            return .json(200, expand.inline(RecordJSON.object(record, definition, select: call.select, lookupNames: call.lookupNames,
                                                              leading: [("@odata.context", .string(entityContext(call, definition, expand)))]),
                                            record, call.catalog))
        case "PATCH":
            return try patch(call, definition, reference, rawPredicate: rawPredicate)
        case "DELETE":
            _ = try execute(.delete(reference, ifVersion: try call.version(inHeader: "if-match")))
            return .noContent()
        default:
            throw ServiceError(.methodNotAllowed, "The requested resource does not support http method '\(call.request.method)'.")
        }
    }

    /// `PATCH {set}(key)`: upsert; `If-Match: *` updates only, `If-None-Match: *` creates only,
    /// `If-Match: W/"n"` updates only that version.
    private func patch(_ call: Call, _ definition: EntityDefinition, _ reference: EntityReference, rawPredicate: String) throws -> APIResponse {
        let fields = try call.decoder.fields(try call.bodyObject(), for: definition)
        try checkRepresentationOptions(call, definition)
        let request: ServiceRequest
        if let version = try call.version(inHeader: "if-match") {
            request = .update(reference, fields: fields, ifVersion: version)
        } else if call.request.header("if-match")?.trimmingWhitespace() == "*" {
            request = .upsert(reference, fields: fields, mode: .updateOnly)
        } else if call.request.header("if-none-match")?.trimmingWhitespace() == "*" {
            request = .upsert(reference, fields: fields, mode: .createOnly)
        } else {
            request = .upsert(reference, fields: fields, mode: .createOrUpdate)
        }
        let response = try execute(request)
        var created = false
        if case .upserted(_, let wasCreated, _) = response { created = wasCreated }
        let location = "\(call.base)/\(definition.setName)(\(rawPredicate))"
        if call.preferences.returnRepresentation, let id = response.recordID {
            return try representation(call, definition, EntityReference(definition.name, id: id), status: created ? 201 : 200)
        }
        return .noContent([("OData-EntityId", location)])
    }

    /// Checks the `$select` and `$expand` of a write that answers with its record before it
    /// writes: a request answered with an error must have written nothing (a client retrying
    /// it would write again). The engine makes the same checks when the record is read, which
    /// is after the write; these give the same errors against the metadata: every column
    /// selected exists, every expanded property is a lookup, and every column of a nested
    /// `$select` exists in one of the targets it shows.
    private func checkRepresentationOptions(_ call: Call, _ definition: EntityDefinition) throws {
        guard call.preferences.returnRepresentation else { return }
        let expand = try ExpandOption(call.options["$expand"], definition)
        for column in call.select ?? [] where definition.attribute(RecordJSON.logicalColumn(column)) == nil {
            throw Self.unknownProperty(column, definition.name)
        }
        for item in expand.items {
            guard let attribute = definition.attribute(item.column) else { throw Self.unknownProperty(item.navigation, definition.name) }
            guard attribute.type.isReference, let targets = attribute.targets, !targets.isEmpty else {
                throw ServiceError(.queryInvalid, "Only lookup columns can be expanded; '\(item.column)' of '\(definition.name)' is not one.",
                                   entity: definition.name)
            }
            // a column any of the targets shown has is one a related record can answer
            let shown = (item.target.map { [$0] } ?? targets).compactMap { call.catalog.entity(named: $0) }
            for column in item.select ?? [] where !shown.contains(where: { $0.attribute(RecordJSON.logicalColumn(column)) != nil }) {
                throw Self.unknownProperty(column, item.target ?? targets[0])
            }
        }
    }

    private static func unknownProperty(_ name: String, _ entity: String) -> ServiceError {
        ServiceError(.unknownProperty, "Could not find a property named '\(name)' on type 'Microsoft.Dynamics.CRM.\(entity)'.", entity: entity)
    }

    /// The record after a write, shaped by `$select`, with `ETag` and `Preference-Applied`.
    /// `$expand` applies to a created record and is ignored after an update (SPEC §2 rule 5).
    private func representation(_ call: Call, _ definition: EntityDefinition, _ reference: EntityReference, status: Int) throws -> APIResponse {
        let expand = status == 201 ? try ExpandOption(call.options["$expand"], definition) : try ExpandOption(nil, definition)
        let record = try retrieve(reference, columns: call.select, expand: expand, call.catalog)
        var headers = [("Preference-Applied", "return=representation")]
        if let etag = RecordJSON.etag(record) { headers.append(("ETag", etag)) }
        return .json(status, expand.inline(RecordJSON.object(record, definition, select: call.select, lookupNames: call.lookupNames,
                                                             leading: [("@odata.context", .string(entityContext(call, definition, expand)))]),
                                           record, call.catalog),
                     headers: headers)
    }

    /// `{set}(key)/column`: `GET` (`{"value":…}`, or `/$value` as text), `PUT {"value":…}`, `DELETE` (clears it).
    func property(_ call: Call, _ definition: EntityDefinition, _ reference: EntityReference, _ name: String,
                  suffix: String?) throws -> APIResponse {
        let attribute = definition.allAttributes.first { RecordJSON.propertyName($0) == name || ($0.name == name && !$0.type.isReference) }
        let isReferenceRemoval = suffix == "$ref" && definition.attribute(name)?.type.isReference == true
        guard suffix == nil || suffix == "$value" || isReferenceRemoval else {
            throw ServiceError(.resourceNotFound, "Resource not found for the segment '\(suffix!)'.")
        }
        switch call.request.method {
        case "GET" where !isReferenceRemoval:
            let record = try retrieve(reference, columns: [name])
            let value = record.fields[attribute?.name ?? name] ?? .null
            if value.isNull { return .noContent() }
            if suffix == "$value" {
                if case .string(let text) = value { return .text(200, text) }
                return .text(200, (try? RecordJSON.json(value).serialized()) ?? "")
            }
            let context = "\(call.base)/$metadata#\(definition.setName)(\(reference.keyDescription))/\(name)"
            return .json(200, .object([("@odata.context", .string(context)), ("value", RecordJSON.json(value))]))
        case "PUT" where suffix == nil:
            guard let body = try call.bodyObject().last(where: { $0.0 == "value" })?.1 else {
                throw ServiceError(.payloadError, "The body of a property update must be {\"value\": …}.")
            }
            _ = try execute(.update(reference, fields: [name: try RecordJSON.fieldValue(body, property: name)], ifVersion: nil))
            return .noContent()
        case "DELETE" where suffix == nil || isReferenceRemoval:
            _ = try execute(.update(reference, fields: [name: .null], ifVersion: try call.version(inHeader: "if-match")))
            return .noContent()
        default:
            throw ServiceError(.methodNotAllowed, "The requested resource does not support http method '\(call.request.method)'.")
        }
    }

    /// `<base>/$metadata#accounts(name,accountnumber)/$entity`.
    func entityContext(_ call: Call, _ definition: EntityDefinition, _ expand: ExpandOption? = nil) -> String {
        "\(call.base)/$metadata#\(definition.setName)\(Self.contextColumns(call.select, expand))/$entity"
    }

    /// `(name,primarycontactid(fullname))`, or empty without `$select` and `$expand`.
    static func contextColumns(_ select: [String]?, _ expand: ExpandOption?) -> String {
        let pieces = (select ?? []) + (expand?.contextText ?? [])
        return pieces.isEmpty ? "" : "(\(pieces.joined(separator: ",")))"
    }
}
