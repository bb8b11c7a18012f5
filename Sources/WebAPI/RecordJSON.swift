import DataFiles
import EntityModel
import Foundation

/// Converts records to Web API JSON and request bodies to field values.
enum RecordJSON {
    /// `W/"<versionnumber>"`.
    static func etag(_ record: Record) -> String? {
        guard case .integer(let version)? = record.fields["versionnumber"] else { return nil }
        return "W/\"\(version)\""
    }

    /// The property name a column has in JSON: `_x_value` for lookups.
    static func propertyName(_ attribute: AttributeDefinition) -> String {
        attribute.type.isReference ? "_\(attribute.name)_value" : attribute.name
    }

    /// A record as a JSON object: annotations first, then the columns in definition order.
    /// `versionnumber` is shown only when selected (or when nothing is selected).
    /// With `lookupNames`, each lookup also carries `_x_value@Microsoft.Dynamics.CRM.lookuplogicalname`.
    static func object(_ record: Record, _ definition: EntityDefinition, select: [String]?,
                       lookupNames: Bool = false, leading: [(String, JSONValue)] = []) -> JSONValue {
        var members = leading
        if let etag = etag(record) { members.append(("@odata.etag", .string(etag))) }
        let selected = select.map { Set($0.map(logicalColumn)) }
        for attribute in definition.allAttributes {
            guard let value = record.fields[attribute.name] else { continue }
            if attribute.name == "versionnumber", let selected, !selected.contains("versionnumber") { continue }
            members.append((propertyName(attribute), json(value)))
            if lookupNames, case .reference(let reference) = value {
                members.append(("\(propertyName(attribute))@\(lookupLogicalName)", .string(reference.entity)))
            }
        }
        return .object(members)
    }

    /// The annotation naming a lookup's target entity.
    static let lookupLogicalName = "Microsoft.Dynamics.CRM.lookuplogicalname"
    /// The instance annotation on a `$deletedEntity` entry with the deleted record's
    /// alternate-key values (`{"accountnumber":"A1"}`): a cdsync extension, which other
    /// clients ignore as they ignore any annotation they do not know.
    static let deletedKey = "@cdsync.key"

    /// `_x_value` → `x`.
    static func logicalColumn(_ name: String) -> String {
        name.hasPrefix("_") && name.hasSuffix("_value") && name.count > 7 ? String(name.dropFirst().dropLast(6)) : name
    }

    /// One value as JSON.
    static func json(_ value: FieldValue) -> JSONValue {
        switch value {
        case .null: return .null
        case .string(let text): return .string(text)
        case .integer(let number): return .number(String(number))
        case .decimal(let number): return .number(number.description)
        case .float(let number): return number.isFinite ? .number(String(number)) : .null
        case .boolean(let flag): return .bool(flag)
        case .dateTime(let date): return .string(DateText.string(from: date))
        case .guid(let id): return .string(id.description)
        case .reference(let reference): return reference.id.map { .string($0.description) } ?? .null
        }
    }

    /// Parses a body that must be a JSON object.
    /// - Throws: `0x80048d19` when it is not.
    static func parseObject(_ body: Data) throws -> [(String, JSONValue)] {
        let value: JSONValue
        do { value = try JSONValue.parse(body, maxDepth: 64) } catch {
            throw ServiceError(.payloadError, "Error identified in Payload provided by the user for Entity: the body is not valid JSON (\(error)).")
        }
        guard case .object(let members) = value else {
            throw ServiceError(.payloadError, "Error identified in Payload provided by the user: the body must be a JSON object.")
        }
        return members
    }

    /// The exact value of exponent notation (`1E2`, `12.5e-1`), when it fits a decimal of at
    /// most 18 fraction digits; nil otherwise (JSON allows the form for any number, and a money
    /// column must not see it as a float).
    static func exactDecimal(scientific text: String) -> DecimalNumber? {
        guard let marker = text.firstIndex(where: { $0 == "e" || $0 == "E" }),
              let mantissa = DecimalNumber(String(text[..<marker])),
              let exponent = Int(text[text.index(after: marker)...]), abs(exponent) <= 40 else { return nil }
        var significand = mantissa.significand
        var scale = mantissa.scale - exponent
        while scale > 0, significand % 10 == 0 {
            significand /= 10
            scale -= 1
        }
        while scale < 0 {
            let (times, overflow) = significand.multipliedReportingOverflow(by: 10)
            guard !overflow else { return nil }
            significand = times
            scale += 1
        }
        return scale <= 18 ? DecimalNumber(significand: significand, scale: scale) : nil
    }

    /// A scalar JSON value as a field value; numbers keep their exact text.
    /// - Throws: `0x80048d19` for arrays, objects and unreadable numbers.
    static func fieldValue(_ value: JSONValue, property: String) throws -> FieldValue {
        switch value {
        case .null: return .null
        case .bool(let flag): return .boolean(flag)
        case .string(let text): return .string(text)
        case .number(let text):
            if let integer = Int64(text) { return .integer(integer) }
            if let decimal = DecimalNumber(text) ?? exactDecimal(scientific: text) { return .decimal(decimal) }
            if let double = Double(text) { return .float(double) }
            throw ServiceError(.payloadError, "Cannot convert the literal '\(text)' of property '\(property)'.")
        case .array, .object:
            throw ServiceError(.payloadError, "The property '\(property)' holds a collection or an object, which is not supported here.")
        }
    }
}
