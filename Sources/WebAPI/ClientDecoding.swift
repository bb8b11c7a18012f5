import DataFiles
import EntityModel
import Foundation

/// Service errors from Web API error bodies, by code.
enum ServiceErrorFactory {
    /// The codes the engine raises, by wire value.
    static let known: [String: ErrorCode] = Dictionary([
        ErrorCode.invalidArgument, .objectDoesNotExist, .duplicateRecord, .stringTooLong, .expiredVersionStamp,
        .invalidStateCodeStatusCode, .payloadError, .concurrencyVersionMismatch, .invalidKey, .resourceNotFound,
        .invalidEntityKeyOperation, .entityKeyNotDefined, .recordNotFoundByEntityKey, .duplicateRecordEntityKey,
        .entityKeyNameExists, .entityKeyWithSelectedAttributesExists, .indexSizeConstraintViolated,
        .reactivateEntityKeyOnlyForFailedJobs, .changeTrackingNotEnabled, .unknownProperty, .tooManyRequests,
    ].map { ($0.value, $0) }, uniquingKeysWith: { first, _ in first })

    /// The error an error response carries.
    static func from(_ response: APIResponse, entity: String? = nil) -> ServiceError {
        let json = try? JSONValue.parse(response.body)
        let code = json?["error"]?["code"]?.stringValue ?? ""
        let message = json?["error"]?["message"]?.stringValue ?? "HTTP \(response.status)"
        if response.status == 503 { return unavailable(message) }
        // A failure without a Dataverse code (401, 413, …) gets a visibly product-only code: `http.401`.
        let errorCode = known[code] ?? ErrorCode(code.isEmpty ? "http.\(response.status)" : code, name: "HTTP\(response.status)",
                                                 httpStatus: response.status)
        return ServiceError(errorCode, message, entity: entity)
    }

    /// A transport failure: temporary, retrying later may work.
    static func unavailable(_ message: String) -> ServiceError {
        ServiceError(.storeUnavailable, message)
    }
}

/// Records and definitions from Web API JSON.
enum ClientDecoding {
    /// A record from a JSON row, typed by the entity's columns.
    static func record(_ json: JSONValue, _ definition: EntityDefinition) throws -> Record {
        guard case .object(let members) = json else {
            throw ServiceError(.payloadError, "The server answered with something other than a record.")
        }
        var fields: [String: FieldValue] = [:]
        // an object is an expanded record (its navigation property), read by the caller
        for (name, value) in members where !name.contains("@") && value.objectMembers == nil {
            let column = RecordJSON.logicalColumn(name)
            guard let attribute = definition.attribute(column) else { continue }
            let target = json["\(name)@\(RecordJSON.lookupLogicalName)"]?.stringValue
            fields[column] = fieldValue(value, attribute, target: target)
        }
        if fields["versionnumber"] == nil, let etag = json["@odata.etag"]?.stringValue, let version = version(etag) {
            fields["versionnumber"] = .integer(version)
        }
        let id = fields[definition.primaryIdAttribute].flatMap { if case .guid(let id) = $0 { return id } else { return nil } }
        return Record(entity: definition.name, id: id, fields: fields)
    }

    /// The version a `W/"n"` ETag names.
    static func version(_ etag: String) -> Int64? {
        Int64(etag.replacingOccurrences(of: "W/", with: "").trimmingCharacters(in: CharacterSet(charactersIn: "\"")))
    }

    private static func fieldValue(_ value: JSONValue, _ attribute: AttributeDefinition, target: String?) -> FieldValue {
        if case .null = value { return .null }
        switch attribute.type {
        case .string, .memo: return value.stringValue.map(FieldValue.string) ?? .null
        case .integer, .choice, .state, .status: return value.numberText.flatMap(Int64.init).map(FieldValue.integer) ?? .null
        case .decimal, .money: return value.numberText.flatMap(DecimalNumber.init).map(FieldValue.decimal) ?? .null
        case .float: return value.numberText.flatMap(Double.init).map(FieldValue.float) ?? .null
        case .boolean: return value.boolValue.map(FieldValue.boolean) ?? .null
        case .datetime: return value.stringValue.flatMap(DateText.parse).map(FieldValue.dateTime) ?? .null
        case .uniqueidentifier: return value.stringValue.flatMap(RecordID.init).map(FieldValue.guid) ?? .null
        case .lookup, .owner:
            guard let id = value.stringValue.flatMap(RecordID.init) else { return .null }
            return .reference(EntityReference(target ?? attribute.targets?.first ?? "", id: id))
        }
    }

    /// Columns every entity has implicitly (`EntityDefinition` adds them).
    private static let systemColumns: Set<String> = ["ownerid", "statecode", "statuscode", "versionnumber", "createdon", "modifiedon"]

    /// An entity definition from `EntityDefinitions?$expand=Attributes,Keys`.
    static func definition(_ json: JSONValue) throws -> EntityDefinition {
        guard let name = json["LogicalName"]?.stringValue else {
            throw ServiceError(.payloadError, "An entity definition without LogicalName.")
        }
        let attributes = (json["Attributes"]?.arrayValue ?? []).compactMap { attribute -> AttributeDefinition? in
            guard let column = attribute["LogicalName"]?.stringValue, column != "\(name)id", !systemColumns.contains(column),
                  let kind = AttributeKind.allCases.first(where: { MetadataJSON.attributeType($0) == attribute["AttributeType"]?.stringValue }) else { return nil }
            return AttributeDefinition(name: column, type: kind, maxLength: attribute["MaxLength"]?.numberText.flatMap(Int.init),
                                       precision: attribute["Precision"]?.numberText.flatMap(Int.init),
                                       targets: attribute["Targets"]?.arrayValue?.compactMap(\.stringValue),
                                       required: attribute["RequiredLevel"]?["Value"]?.stringValue == "SystemRequired" ? true : nil)
        }
        let keys = (json["Keys"]?.arrayValue ?? []).compactMap { key -> AlternateKeyDefinition? in
            guard let keyName = key["LogicalName"]?.stringValue else { return nil }
            return AlternateKeyDefinition(name: keyName, columns: key["KeyAttributes"]?.arrayValue?.compactMap(\.stringValue) ?? [],
                                          status: key["EntityKeyIndexStatus"]?.stringValue.flatMap(KeyIndexStatus.init) ?? .pending)
        }
        let columnNames = Set((json["Attributes"]?.arrayValue ?? []).compactMap { $0["LogicalName"]?.stringValue })
        return EntityDefinition(name: name, setName: json["EntitySetName"]?.stringValue,
                                primaryNameAttribute: json["PrimaryNameAttribute"]?.stringValue,
                                changeTracking: json["ChangeTrackingEnabled"]?.boolValue ?? false,
                                ownership: json["OwnershipType"]?.stringValue == "UserOwned" ? .user : .organization,
                                hasStateModel: columnNames.contains("statecode"), attributes: attributes, keys: keys,
                                metadataId: json["MetadataId"]?.stringValue.flatMap(RecordID.init))
    }
}
