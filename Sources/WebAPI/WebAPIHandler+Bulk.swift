import DataFiles
import EntityModel
import Foundation

extension WebAPIHandler {
    /// `POST {set}/Microsoft.Dynamics.CRM.CreateMultiple|UpdateMultiple|UpsertMultiple` with `{"Targets":[…]}`;
    /// every target carries `"@odata.type":"Microsoft.Dynamics.CRM.<entity>"`; all or nothing.
    func bulk(_ call: Call, _ definition: EntityDefinition, action: String) throws -> APIResponse {
        guard ["CreateMultiple", "UpdateMultiple", "UpsertMultiple"].contains(action) else {
            throw ServiceError(.resourceNotFound, "Resource not found for the segment 'Microsoft.Dynamics.CRM.\(action)'.")
        }
        guard let targets = try call.bodyObject().last(where: { $0.0 == "Targets" })?.1.arrayValue else {
            throw ServiceError(.payloadError, "The body of \(action) must be {\"Targets\": [ … ]}.")
        }
        let type = "Microsoft.Dynamics.CRM.\(definition.name)"
        var parsed: [(members: [(String, JSONValue)], fields: [String: FieldValue])] = []
        for (index, target) in targets.enumerated() {
            guard case .object(let members) = target else {
                throw ServiceError(.payloadError, "Target \(index) of \(action) is not an object.", requestIndex: index)
            }
            guard target["@odata.type"]?.stringValue == type else {
                throw ServiceError(.payloadError, "Target \(index) of \(action) must carry \"@odata.type\":\"\(type)\".", requestIndex: index)
            }
            parsed.append((members, try call.decoder.fields(members, for: definition)))
        }
        switch action {
        case "CreateMultiple":
            let records = parsed.map { Record(entity: definition.name, fields: $0.fields) }
            guard case .createdMany(let ids) = try execute(.createMultiple(entity: definition.name, targets: records)) else {
                throw ServiceError(.internalError, "The service answered CreateMultiple without ids.")
            }
            return .json(200, .object([
                ("@odata.context", .string("\(call.base)/$metadata#Microsoft.Dynamics.CRM.CreateMultipleResponse")),
                ("Ids", .array(ids.map { .string($0.description) })),
            ]))
        case "UpdateMultiple":
            let items = try parsed.enumerated().map { index, target in
                try (idReference(target.fields, definition, index: index), target.fields)
            }
            _ = try execute(.updateMultiple(entity: definition.name, targets: items))
            return .noContent()
        default:
            let items = try parsed.enumerated().map { index, target -> (EntityReference, [String: FieldValue]) in
                if let path = target.members.last(where: { $0.0 == "@odata.id" })?.1.stringValue {
                    return (try call.decoder.reference(path), target.fields)
                }
                return (try idReference(target.fields, definition, index: index), target.fields)
            }
            _ = try execute(.upsertMultiple(entity: definition.name, targets: items))
            return .noContent()
        }
    }

    /// The reference of a target by its primary key column.
    private func idReference(_ fields: [String: FieldValue], _ definition: EntityDefinition, index: Int) throws -> EntityReference {
        switch fields[definition.primaryIdAttribute] {
        case .string(let text)?:
            if let id = RecordID(text) { return EntityReference(definition.name, id: id) }
        case .guid(let id)?:
            return EntityReference(definition.name, id: id)
        default: break
        }
        throw ServiceError(.invalidArgument, "Target \(index) needs its primary key '\(definition.primaryIdAttribute)'.", requestIndex: index)
    }
}
