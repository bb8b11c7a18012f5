import DataFiles
import EntityModel
import Foundation

extension WebAPIHandler {
    /// `EntityDefinitions`, `EntityDefinitions(LogicalName='x')` or `(<MetadataId>)`, and their `/Keys` and `/Attributes`.
    func entityDefinitions(_ call: Call) throws -> APIResponse {
        let segments = call.path.segments
        let expand = try Self.expandOptions(call.options["$expand"])
        let context = "\(call.base)/$metadata#EntityDefinitions"
        guard let predicate = segments[0].predicate else {
            guard segments.count == 1 else { throw ServiceError(.resourceNotFound, "Resource not found for the segment '\(segments[1].name)'.") }
            let filter = try call.options["$filter"].map(FilterParser.parse)
            var rows: [JSONValue] = []
            for definition in call.catalog.definitions {
                if let filter, !MetadataJSON.matches(filter, .object(MetadataJSON.entity(definition))) { continue }
                rows.append(try entityObject(definition, call.select, expand))
            }
            return .json(200, .object([("@odata.context", .string(context)), ("value", .array(rows))]))
        }
        let definition = try Self.definition(call.catalog, predicate)
        guard segments.count > 1 else {
            guard case .object(let members) = try entityObject(definition, call.select, expand) else { return .noContent() }
            return .json(200, .object([("@odata.context", .string(context + "/$entity"))] + members))
        }
        let rows: [[(String, JSONValue)]]
        switch segments[1].name {
        case "Keys": rows = try definition.keys.map { try MetadataJSON.selecting(MetadataJSON.key($0, of: definition), call.select, type: "EntityKeyMetadata") }
        case "Attributes": rows = try definition.allAttributes.map { try MetadataJSON.selecting(MetadataJSON.attribute($0, of: definition), call.select, type: "AttributeMetadata") }
        default: throw ServiceError(.resourceNotFound, "Resource not found for the segment '\(segments[1].name)'.")
        }
        let subContext = "\(context)('\(definition.name)')/\(segments[1].name)"
        return .json(200, .object([("@odata.context", .string(subContext)), ("value", .array(rows.map(JSONValue.object)))]))
    }

    private func entityObject(_ definition: EntityDefinition, _ select: [String]?, _ expand: [String: [String]?]) throws -> JSONValue {
        var members = try MetadataJSON.selecting(MetadataJSON.entity(definition), select, type: "EntityMetadata")
        if let keySelect = expand["Keys"] {
            members.append(("Keys", .array(try definition.keys.map {
                .object(try MetadataJSON.selecting(MetadataJSON.key($0, of: definition), keySelect, type: "EntityKeyMetadata"))
            })))
        }
        if let attributeSelect = expand["Attributes"] {
            members.append(("Attributes", .array(try definition.allAttributes.map {
                .object(try MetadataJSON.selecting(MetadataJSON.attribute($0, of: definition), attributeSelect, type: "AttributeMetadata"))
            })))
        }
        return .object(members)
    }

    /// `LogicalName='account'` or a MetadataId.
    private static func definition(_ catalog: Catalog, _ predicate: String) throws -> EntityDefinition {
        let found: EntityDefinition?
        switch try KeyPredicate.parse(predicate, entity: "EntityMetadata") {
        case .id(let id): found = catalog.definitions.first { $0.metadataId == id }
        case .keys(let values):
            guard values.count == 1, case .string(let name)? = values["LogicalName"] else {
                throw ServiceError(.invalidKey, "EntityDefinitions are addressed by LogicalName='<name>' or by MetadataId.")
            }
            found = catalog.entity(named: name)
        }
        guard let found else {
            throw ServiceError(.objectDoesNotExist, "Could not find an entity with the key '\(predicate)'.")
        }
        return found
    }

    /// `Keys($select=LogicalName,KeyAttributes),Attributes` → name to its `$select` (nil = all).
    static func expandOptions(_ text: String?) throws -> [String: [String]?] {
        guard let text else { return [:] }
        var result: [String: [String]?] = [:]
        var depth = 0
        var current = ""
        var parts: [String] = []
        for char in text {
            if char == "(" { depth += 1 } else if char == ")" { depth -= 1 }
            if char == "," && depth == 0 { parts.append(current); current = "" } else { current.append(char) }
        }
        parts.append(current)
        for part in parts.map({ $0.trimmingWhitespace() }) {
            let name = String(part.prefix { $0 != "(" })
            guard name == "Keys" || name == "Attributes" else {
                throw ServiceError(.unknownProperty, "Could not find a property named '\(name)' on type 'Microsoft.Dynamics.CRM.EntityMetadata'.")
            }
            var select: [String]?
            if part.count > name.count {
                // Keys($select=LogicalName,KeyAttributes): the one option an expanded metadata list takes
                guard part.dropFirst(name.count).hasPrefix("("), part.hasSuffix(")"), depth == 0 else {
                    throw ServiceError(.queryInvalid, "The $expand option '\(part)' is malformed: expected \(name) or \(name)($select=…).")
                }
                for option in part.dropFirst(name.count + 1).dropLast().split(separator: ";", omittingEmptySubsequences: false) {
                    let names = option.hasPrefix("$select=")
                        ? option.dropFirst("$select=".count).split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingWhitespace() }
                        : []
                    guard !names.isEmpty, names.allSatisfy({ !$0.isEmpty }), select == nil else {
                        throw ServiceError(.queryInvalid, "The $expand option '\(part)' is malformed: \(name) takes only one $select with property names.")
                    }
                    select = names
                }
            }
            guard result[name] == nil else {
                throw ServiceError(.queryInvalid, "The $expand option names \(name) twice.")
            }
            result[name] = .some(select)
        }
        return result
    }

    /// `$metadata`: CSDL with entity types, keys and entity sets; `?annotations=true` adds the
    /// alternate-key and change-tracking annotations.
    func csdl(_ call: Call) -> APIResponse {
        let annotations = call.options["annotations"] == "true"
        var xml = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<edmx:Edmx Version=\"4.0\" xmlns:edmx=\"http://docs.oasis-open.org/odata/ns/edmx\">\n<edmx:DataServices>\n"
        xml += "<Schema Namespace=\"Microsoft.Dynamics.CRM\" Alias=\"mscrm\" xmlns=\"http://docs.oasis-open.org/odata/ns/edm\">\n"
        for definition in call.catalog.definitions {
            xml += CSDL.entityType(definition, annotations: annotations)
        }
        xml += "<EntityContainer Name=\"System\">\n"
        for definition in call.catalog.definitions {
            xml += CSDL.entitySet(definition, annotations: annotations)
        }
        xml += "</EntityContainer>\n</Schema>\n</edmx:DataServices>\n</edmx:Edmx>\n"
        return APIResponse(status: 200, headers: [("Content-Type", "application/xml"), ("OData-Version", "4.0")], body: Data(xml.utf8))
    }
}

/// CSDL XML pieces for `$metadata`.
enum CSDL {
    static func entityType(_ definition: EntityDefinition, annotations: Bool) -> String {
        var xml = "<EntityType Name=\"\(definition.name)\" BaseType=\"mscrm.crmbaseentity\">\n<Key><PropertyRef Name=\"\(definition.primaryIdAttribute)\"/></Key>\n"
        for attribute in definition.allAttributes {
            var line = "<Property Name=\"\(RecordJSON.propertyName(attribute))\" Type=\"\(edmType(attribute.type))\""
            if attribute.type == .string || attribute.type == .memo { line += " MaxLength=\"\(attribute.effectiveMaxLength)\"" }
            xml += line + "/>\n"
        }
        for attribute in definition.allAttributes where attribute.type.isReference {
            for target in attribute.targets ?? [] {
                let name = (attribute.targets ?? []).count > 1 ? "\(attribute.name)_\(target)" : attribute.name
                xml += "<NavigationProperty Name=\"\(name)\" Type=\"mscrm.\(target)\"/>\n"
            }
        }
        let activeKeys = definition.keys.filter { $0.status == .active }
        if annotations && !activeKeys.isEmpty {
            xml += "<Annotation Term=\"OData.Community.Keys.V1.AlternateKeys\"><Collection>\n"
            for key in activeKeys {
                xml += "<Record Type=\"OData.Community.Keys.V1.AlternateKey\"><PropertyValue Property=\"Key\"><Collection>"
                for column in key.columns {
                    let property = definition.attribute(column).map(RecordJSON.propertyName) ?? column
                    xml += "<Record Type=\"OData.Community.Keys.V1.PropertyRef\"><PropertyValue Property=\"Alias\" String=\"\(property)\"/><PropertyValue Property=\"Name\" PropertyPath=\"\(property)\"/></Record>"
                }
                xml += "</Collection></PropertyValue></Record>\n"
            }
            xml += "</Collection></Annotation>\n"
        }
        return xml + "</EntityType>\n"
    }

    static func entitySet(_ definition: EntityDefinition, annotations: Bool) -> String {
        var xml = "<EntitySet Name=\"\(definition.setName)\" EntityType=\"Microsoft.Dynamics.CRM.\(definition.name)\">"
        if annotations && definition.changeTracking {
            xml += "<Annotation Term=\"Org.OData.Capabilities.V1.ChangeTracking\"><Record><PropertyValue Property=\"Supported\" Bool=\"true\"/></Record></Annotation>"
        }
        return xml + "</EntitySet>\n"
    }

    static func edmType(_ kind: AttributeKind) -> String {
        switch kind {
        case .string, .memo: return "Edm.String"
        case .integer, .choice, .state, .status: return "Edm.Int32"
        case .decimal, .money: return "Edm.Decimal"
        case .float: return "Edm.Double"
        case .boolean: return "Edm.Boolean"
        case .datetime: return "Edm.DateTimeOffset"
        case .uniqueidentifier, .lookup, .owner: return "Edm.Guid"
        }
    }
}
