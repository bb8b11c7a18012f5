import DataFiles
import EntityModel
import Foundation

/// Turns a JSON entity body into field values: plain properties, `nav@odata.bind` references
/// (by GUID, by alternate key, `null` to clear, `$n` inside a change set) and ignored annotations.
struct BodyDecoder {
    let catalog: Catalog
    /// Content-ID references of the current change set: `$1` → `accounts(<id>)`.
    var contentIDs: [String: String] = [:]

    /// The fields of one body for an entity.
    /// - Throws: `0x80048d19` for payload errors, `0x8006088a`/`0x80060888` for bad bind targets.
    func fields(_ members: [(String, JSONValue)], for definition: EntityDefinition) throws -> [String: FieldValue] {
        var fields: [String: FieldValue] = [:]
        for (name, value) in members {
            if name.hasSuffix("@odata.bind") {
                let navigation = String(name.dropLast("@odata.bind".count))
                let (column, target) = try lookupColumn(navigation, definition)
                // one lookup bound twice (`parentcustomerid_account` and `_contact`) would keep
                // whichever came last
                guard fields[column.name] == nil else {
                    throw ServiceError(.payloadError, "The lookup '\(column.name)' is bound more than once in the payload.",
                                       entity: definition.name)
                }
                if case .null = value { fields[column.name] = .null; continue }
                guard case .string(let path) = value else {
                    throw ServiceError(.payloadError, "The value of '\(name)' must be a URL of a record, such as '/contacts(<id>)'.",
                                       entity: definition.name)
                }
                let bound = try reference(path)
                if let target, bound.entity != target {
                    throw ServiceError(.payloadError, "'\(name)' binds \(target) records, and '\(path)' is a \(bound.entity).",
                                       entity: definition.name)
                }
                fields[column.name] = .reference(bound)
                continue
            }
            if name.contains("@") { continue }
            fields[name] = try RecordJSON.fieldValue(value, property: name)
        }
        return fields
    }

    /// The lookup column a navigation property binds: the column itself for owners and single-target lookups,
    /// `column_target` for lookups with several targets (`parentcustomerid_account`).
    /// With it, the target a `column_target` property binds (nil for the others, which the
    /// engine checks against the column's targets).
    private func lookupColumn(_ navigation: String, _ definition: EntityDefinition) throws -> (AttributeDefinition, target: String?) {
        if let attribute = definition.attribute(navigation), attribute.type == .owner || (attribute.type == .lookup && (attribute.targets ?? []).count == 1) {
            return (attribute, nil)
        }
        for attribute in definition.allAttributes where attribute.type.isReference && (attribute.targets ?? []).count > 1 {
            for target in attribute.targets ?? [] where navigation == "\(attribute.name)_\(target)" {
                return (attribute, target)
            }
        }
        throw ServiceError(.payloadError,
            "An undeclared property '\(navigation)' which only has property annotations in the payload but no property value was found in the payload. In OData, only declared navigation properties and declared named streams can be represented as properties without values.",
            entity: definition.name)
    }

    /// The record a bind URL names: `/contacts(<id>)`, `contacts(emailaddress1='a@x')`, an absolute URL, or `$n`.
    func reference(_ path: String) throws -> EntityReference {
        var text = contentIDs[path] ?? path
        if let range = text.firstRange(of: ResourcePath.root + "/") { text = String(text[range.upperBound...]) }
        while text.hasPrefix("/") { text.removeFirst() }
        if text.hasPrefix("$") {
            throw ServiceError(.invalidKey, "Content-ID Reference: '\(text)' does not exist in the batch context.")
        }
        guard let open = text.firstIndex(of: "("), text.hasSuffix(")") else {
            throw ServiceError(.payloadError, "The URL '\(path)' does not name a record; use '/<entity set>(<key>)'.")
        }
        let definition = try catalog.entity(set: String(text[..<open]))
        let predicate = String(text[text.index(after: open)..<text.index(before: text.endIndex)])
        return try Self.reference(definition, predicate: predicate)
    }

    /// The reference of a key predicate on an entity; a lookup column in a key must be written `_x_value`.
    /// - Throws: `0x80060888` with the rule-10 message for a lookup named by its logical name.
    static func reference(_ definition: EntityDefinition, predicate: String) throws -> EntityReference {
        let parsed = try KeyPredicate.parse(predicate, entity: definition.name)
        if case .keys(let values) = parsed {
            for name in values.keys where definition.attribute(name)?.type.isReference == true {
                throw ServiceError(.invalidKey,
                    "The key in the request URI is not valid for resource 'Microsoft.Dynamics.CRM.\(definition.name)'. Ensure that the names and number of key properties match the declared or alternate key properties for the resource 'Microsoft.Dynamics.CRM.\(definition.name)'.",
                    entity: definition.name)
            }
        }
        return parsed.reference(definition.name)
    }
}
