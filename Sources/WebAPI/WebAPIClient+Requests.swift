import DataFiles
import EntityModel
import Foundation

extension WebAPIClient {
    /// The HTTP form of a create, retrieve, update, upsert or delete.
    /// - Throws: `0x80040203` for requests that have no single-request form (queries, batches).
    func plan(_ request: ServiceRequest) throws -> RequestPlan {
        switch request {
        case .create(let entity, let id, let fields):
            let definition = try self.definition(entity)
            var fields = fields
            if let id { fields[definition.primaryIdAttribute] = .guid(id) }
            return RequestPlan(method: "POST", path: definition.setName, body: try body(fields, definition)) { response in
                guard let id = Self.entityID(response) else { throw ServiceError(.payloadError, "The server did not name the new record.") }
                return .created(id)
            }
        case .retrieve(let reference, let columns):
            let definition = try self.definition(reference.entity)
            let select = columns.map { "?$select=\(QueryOptions.encode($0.joined(separator: ",")))" } ?? ""
            return RequestPlan(method: "GET", path: "\(definition.setName)(\(try predicate(reference, definition)))\(select)",
                               headers: ["Prefer": "odata.include-annotations=\"\(RecordJSON.lookupLogicalName)\""]) { response in
                .record(try ClientDecoding.record(try JSONValue.parse(response.body), definition))
            }
        case .update(let reference, let fields, let ifVersion):
            let definition = try self.definition(reference.entity)
            return try writePlan(reference, fields, definition, conditions: ["If-Match": ifVersion.map { "W/\"\($0)\"" } ?? "*"]) { record, _ in
                .updated(id: record.id!, changed: true, version: Self.version(record))
            }
        case .upsert(let reference, let fields, let mode):
            let definition = try self.definition(reference.entity)
            let conditions = mode == .updateOnly ? ["If-Match": "*"] : mode == .createOnly ? ["If-None-Match": "*"] : [:]
            return try writePlan(reference, fields, definition, conditions: conditions) { record, status in
                .upserted(id: record.id!, created: status == 201, changed: true)
            }
        case .upsertRow(let row):
            return try plan(row.request)
        case .delete(let reference, let ifVersion):
            let definition = try self.definition(reference.entity)
            let id = try resolveID(reference, definition)
            return RequestPlan(method: "DELETE", path: "\(definition.setName)(\(id))",
                               headers: ifVersion.map { ["If-Match": "W/\"\($0)\""] } ?? [:]) { _ in .deleted(id) }
        default:
            throw ServiceError(.invalidArgument, "This request cannot run as one HTTP request.")
        }
    }

    /// `PATCH {set}(key)` answered with the record's id and version.
    private func writePlan(_ reference: EntityReference, _ fields: [String: FieldValue], _ definition: EntityDefinition,
                           conditions: [String: String], _ make: @escaping (Record, Int) throws -> ServiceResponse) throws -> RequestPlan {
        let path = "\(definition.setName)(\(try predicate(reference, definition)))?$select=\(definition.primaryIdAttribute)"
        return RequestPlan(method: "PATCH", path: path, headers: conditions.merging(["Prefer": "return=representation"]) { first, _ in first },
                           body: try body(fields, definition)) { response in
            try make(try ClientDecoding.record(try JSONValue.parse(response.body), definition), response.status)
        }
    }

    static func entityID(_ response: APIResponse) -> RecordID? {
        guard let location = response.header("OData-EntityId"), let open = location.lastIndex(of: "("), location.hasSuffix(")") else { return nil }
        return RecordID(String(location[location.index(after: open)..<location.index(before: location.endIndex)]))
    }

    static func version(_ record: Record) -> Int64 {
        if case .integer(let version)? = record.fields["versionnumber"] { return version }
        return 0
    }

    /// A key predicate: the GUID, or `name='value'` pairs with lookups as `_x_value=<guid>`.
    func predicate(_ reference: EntityReference, _ definition: EntityDefinition) throws -> String {
        switch reference.locator {
        case .id(let id): return id.description
        case .keys(let values):
            return try values.keys.sorted().map { name in
                let column = RecordJSON.logicalColumn(name)
                if let attribute = definition.attribute(column), attribute.type.isReference {
                    return "_\(column)_value=\(try lookupID(values[name]!, attribute))"
                }
                return "\(name)=\(ODataLiteral.pathEncoded(ODataLiteral.text(values[name]!)))"
            }.joined(separator: ",")
        }
    }

    /// The GUID of a lookup value (a reference by key is looked up first).
    private func lookupID(_ value: FieldValue, _ attribute: AttributeDefinition) throws -> RecordID {
        switch value {
        case .guid(let id): return id
        case .string(let text) where RecordID(text) != nil: return RecordID(text)!
        case .reference(let reference): return try resolveID(reference, try definition(reference.entity))
        default: throw ServiceError(.invalidKey, "The key value of '\(attribute.name)' must be a reference or a GUID.")
        }
    }

    /// The GUID of a reference, reading the record when it is given by key.
    /// - Throws: the not-found error when there is no such record.
    func resolveID(_ reference: EntityReference, _ definition: EntityDefinition) throws -> RecordID {
        if let id = reference.id { return id }
        let path = "\(definition.setName)(\(try predicate(reference, definition)))?$select=\(definition.primaryIdAttribute)"
        let response = try check(transport.send("GET", url(path)), entity: definition.name)
        guard let id = try ClientDecoding.record(try JSONValue.parse(response.body), definition).id else {
            throw ServiceError(.payloadError, "The server did not answer with the record's id.")
        }
        return id
    }

    /// A JSON body: plain columns, and lookups as `nav@odata.bind`.
    func body(_ fields: [String: FieldValue], _ definition: EntityDefinition) throws -> Data {
        try JSONValue.object(members(fields, definition)).serializedData()
    }

    func members(_ fields: [String: FieldValue], _ definition: EntityDefinition) throws -> [(String, JSONValue)] {
        try fields.keys.sorted().map { name in
            let value = fields[name]!
            let column = RecordJSON.logicalColumn(name)
            guard let attribute = definition.attribute(column), attribute.type.isReference else { return (name, RecordJSON.json(value)) }
            let targets = attribute.targets ?? []
            let reference: EntityReference
            switch value {
            case .null: return ("\(navigation(attribute, targets.first ?? ""))@odata.bind", .null)
            case .reference(let given): reference = given
            case .guid(let id) where targets.count == 1: reference = EntityReference(targets[0], id: id)
            case .string(let text) where targets.count == 1 && RecordID(text) != nil: reference = EntityReference(targets[0], id: RecordID(text)!)
            default:
                throw ServiceError(.payloadError, "The value of '\(column)' in '\(definition.name)' must be a reference to \(targets.joined(separator: " or ")).")
            }
            let target = try self.definition(reference.entity)
            return ("\(navigation(attribute, reference.entity))@odata.bind", .string("/\(target.setName)(\(try predicate(reference, target)))"))
        }
    }

    /// The navigation property of a lookup: the column, or `column_target` for lookups with several targets.
    private func navigation(_ attribute: AttributeDefinition, _ target: String) -> String {
        attribute.type == .owner || (attribute.targets ?? []).count <= 1 ? attribute.name : "\(attribute.name)_\(target)"
    }
}
