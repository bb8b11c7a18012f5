import EntityModel
import Foundation
import GRDB
import GRDBSQLite
import KeyTables

/// Converts between `FieldValue` and what a column stores, checking the column's type.
/// Storage: text as TEXT; whole numbers, choices, state and status as INTEGER; decimal and
/// money as INTEGER scaled by the column's precision (exact); float as REAL; boolean as 0/1;
/// date-time as INTEGER milliseconds since 1970 (UTC); lookups as the target's GUID text.
enum ValueCodec {
    /// The storage value of a non-reference column.
    /// - Throws: `0x80044331` for over-long text, `0x80048d19` for a value of the wrong type.
    static func storageValue(_ value: FieldValue, for attribute: AttributeDefinition, entity: String) throws -> DatabaseValue {
        if case .null = value { return .null }
        switch (attribute.type, value) {
        case (.string, .string(let text)), (.memo, .string(let text)):
            let limit = attribute.effectiveMaxLength
            // counted as Dataverse counts (UTF-16 code units: an emoji is 2, "é" written as e and
            // a combining accent is 2), never more than the UTF-8 bytes, so the bytes decide first
            if text.utf8.count > limit && text.utf16.count > limit {
                throw ServiceError(.stringTooLong,
                    "A validation error occurred.  The length of the '\(attribute.name)' attribute of the '\(entity)' entity exceeded the maximum allowed length of '\(limit)'.",
                    entity: entity)
            }
            if containsNUL(text) {
                throw ServiceError(.payloadError,
                    "The value of '\(attribute.name)' in '\(entity)' contains a NUL character (U+0000), which text columns cannot hold.",
                    entity: entity)
            }
            return text.databaseValue
        case (.integer, .integer(let number)), (.choice, .integer(let number)),
             (.state, .integer(let number)), (.status, .integer(let number)):
            try checkRange(number, attribute, entity)
            try checkChoice(number, attribute, entity)
            return number.databaseValue
        case (.integer, .decimal(let number)), (.choice, .decimal(let number)),
             (.state, .decimal(let number)), (.status, .decimal(let number)):
            guard let whole = number.rescaled(to: 0), whole == number else { throw wrongType(value, attribute, entity) }
            return try storageValue(.integer(whole.significand), for: attribute, entity: entity)
        case (.decimal, .decimal(let number)), (.money, .decimal(let number)):
            return try scaled(number, attribute, entity)
        case (.decimal, .integer(let number)), (.money, .integer(let number)):
            return try scaled(DecimalNumber(number), attribute, entity)
        case (.float, .float(let number)):
            // SQLite stores NaN as NULL, and infinities are not numbers a column holds
            guard number.isFinite else {
                let shown = number.isNaN ? "NaN" : number > 0 ? "infinity" : "-infinity"
                throw ServiceError(.invalidArgument, "The value \(shown) of '\(attribute.name)' in '\(entity)' is not a finite number.", entity: entity)
            }
            return number.databaseValue
        case (.float, .integer(let number)):
            return Double(number).databaseValue
        case (.float, .decimal(let number)):
            return (Double(number.description) ?? 0).databaseValue
        case (.boolean, .boolean(let flag)):
            return (flag ? 1 : 0).databaseValue
        case (.boolean, .integer(let number)) where number == 0 || number == 1:
            return number.databaseValue
        case (.datetime, .dateTime(let date)):
            return try storedMillis(date, attribute, entity).databaseValue
        case (.datetime, .string(let text)):
            guard let date = DateText.parse(text) else { throw wrongType(value, attribute, entity) }
            return try storedMillis(date, attribute, entity).databaseValue
        case (.uniqueidentifier, .guid(let id)):
            return id.description.databaseValue
        case (.uniqueidentifier, .string(let text)):
            guard let id = RecordID(text) else { throw wrongType(value, attribute, entity) }
            return id.description.databaseValue
        default:
            throw wrongType(value, attribute, entity)
        }
    }

    /// `storageValue` for the values a bulk load sends most (text, whole numbers, decimals) in
    /// the column types that take them as they are, read from the column's copies of its
    /// attribute's limits; nil for anything else, and for a value `storageValue` would refuse
    /// (which it then reports).
    static func quickStorageValue(_ value: FieldValue, _ column: EntityTable.Column) -> DatabaseValue? {
        switch (column.type, value) {
        case (.string, .string(let text)), (.memo, .string(let text)):
            guard text.utf8.count <= column.maxLength, !containsNUL(text) else { return nil }
            return text.databaseValue
        case (.integer, .integer(let number)), (.state, .integer(let number)), (.status, .integer(let number)),
             (.choice, .integer(let number)) where !column.hasOptions:
            if let low = column.minValue, number < low { return nil }
            if let high = column.maxValue, number > high { return nil }
            return number.databaseValue
        case (.decimal, .decimal(let number)), (.money, .decimal(let number)):
            guard let value = number.rescaled(to: column.scale) else { return nil }
            let limits = column.type == .money ? moneyLimits : decimalLimits
            if column.scale < limits.count, let limit = limits[column.scale], value.significand.magnitude > limit { return nil }
            return value.significand.databaseValue
        default:
            return nil
        }
    }

    /// True when the text has a U+0000 byte (SQLite's C-string side would cut it there).
    static func containsNUL(_ text: String) -> Bool {
        text.withUTF8Bytes { bytes in !bytes.isEmpty && memchr(bytes.baseAddress!, 0, bytes.count) != nil }
    }

    /// The `FieldValue` of a stored column.
    static func fieldValue(_ stored: DatabaseValue, for attribute: AttributeDefinition, lookupType: String?) -> FieldValue {
        if stored.isNull { return .null }
        switch attribute.type {
        case .string, .memo:
            return String.fromDatabaseValue(stored).map(FieldValue.string) ?? .null
        case .integer, .choice, .state, .status:
            return Int64.fromDatabaseValue(stored).map(FieldValue.integer) ?? .null
        case .decimal, .money:
            guard let raw = Int64.fromDatabaseValue(stored) else { return .null }
            return .decimal(DecimalNumber(significand: raw, scale: attribute.effectivePrecision))
        case .float:
            return Double.fromDatabaseValue(stored).map(FieldValue.float) ?? .null
        case .boolean:
            return .boolean((Int64.fromDatabaseValue(stored) ?? 0) != 0)
        case .datetime:
            guard let millis = Int64.fromDatabaseValue(stored) else { return .null }
            return .dateTime(Date(timeIntervalSince1970: Double(millis) / 1000))
        case .uniqueidentifier:
            return String.fromDatabaseValue(stored).flatMap(RecordID.init).map(FieldValue.guid) ?? .null
        case .lookup, .owner:
            guard let text = String.fromDatabaseValue(stored), let id = RecordID(text) else { return .null }
            let target = lookupType ?? attribute.targets?.first ?? ""
            return .reference(EntityReference(target, id: id))
        }
    }

    /// `fieldValue(_:for:lookupType:)` of column `index` of the row a statement is on, read
    /// straight from SQLite for the storage each type normally has (text, integers, ids,
    /// dates, lookups' GUID text); anything else goes through `DatabaseValue` as ever. The
    /// column's kind and decimal places come apart from it: the column itself (a lookup's
    /// first target, the general conversion) is only read when needed.
    static func fieldValue(_ raw: SQLiteStatement, _ index: Int32, kind: AttributeKind, scale: Int, lookupType: String?,
                           column: @autoclosure () -> EntityTable.Column) -> FieldValue {
        switch (kind, sqlite3_column_type(raw, index)) {
        case (_, SQLITE_NULL):
            return .null
        case (.string, SQLITE_TEXT), (.memo, SQLITE_TEXT):
            // as `DatabaseValue` reads text: up to its first NUL
            return .string(String(cString: sqlite3_column_text(raw, index)))
        case (.integer, SQLITE_INTEGER), (.choice, SQLITE_INTEGER), (.state, SQLITE_INTEGER), (.status, SQLITE_INTEGER):
            return .integer(sqlite3_column_int64(raw, index))
        case (.decimal, SQLITE_INTEGER), (.money, SQLITE_INTEGER):
            return .decimal(DecimalNumber(significand: sqlite3_column_int64(raw, index), scale: scale))
        case (.lookup, SQLITE_TEXT), (.owner, SQLITE_TEXT):
            guard let id = storedID(raw, index) else { return .null }
            return .reference(EntityReference(lookupType ?? column().firstTarget, id: id))
        case (.uniqueidentifier, SQLITE_TEXT):
            return storedID(raw, index).map(FieldValue.guid) ?? .null
        case (.datetime, SQLITE_INTEGER):
            return .dateTime(Date(timeIntervalSince1970: Double(sqlite3_column_int64(raw, index)) / 1000))
        default:
            return fieldValue(DatabaseValue(sqliteStatement: raw, index: index), for: column().attribute, lookupType: lookupType)
        }
    }

    /// The id in text column `index` of the row a statement is on (nil when it is not a GUID).
    static func storedID(_ raw: SQLiteStatement, _ index: Int32) -> RecordID? {
        guard let text = sqlite3_column_text(raw, index) else { return nil }
        return RecordID(storedBytes: UnsafeBufferPointer(start: text, count: Int(sqlite3_column_bytes(raw, index))))
    }

    /// The earliest and latest instants a date-time column holds: the years 1 to 9999, as
    /// ISO 8601 writes them with four digits (Dataverse itself starts at 1753).
    static let earliestDate = Date(timeIntervalSince1970: -62_135_596_800)
    static let latestDate = Date(timeIntervalSince1970: 253_402_300_799.999)

    /// A date-time as stored: milliseconds since 1970.
    /// - Throws: `0x80040203` for an instant outside the years 1–9999 (past them the count of
    ///   milliseconds would overflow, or wrap into another date).
    static func storedMillis(_ date: Date, _ attribute: AttributeDefinition, _ entity: String) throws -> Int64 {
        guard date >= earliestDate, date <= latestDate else {
            throw ServiceError(.invalidArgument,
                "The date of '\(attribute.name)' in '\(entity)' is outside the years 1 to 9999.", entity: entity)
        }
        return Int64((date.timeIntervalSince1970 * 1000).rounded())
    }

    /// The largest whole part Dataverse takes: money ±922,337,203,685,477, decimal ±100,000,000,000
    /// (its `MaxSupportedValue`s); a load that passed here beyond them would fail there.
    static func supportedMagnitude(_ type: AttributeKind) -> Int64 { type == .money ? 922_337_203_685_477 : 100_000_000_000 }

    /// `limit` × 10^places for places 0…18, as stored significands compare with it; nil where
    /// it is past Int64 (every stored value is then within it).
    private static func scaledLimits(_ limit: Int64) -> [UInt64?] {
        (0...18).map { places in
            var value: Int64? = limit
            for _ in 0..<places { value = value.flatMap { let (times, overflow) = $0.multipliedReportingOverflow(by: 10); return overflow ? nil : times } }
            return value.map { UInt64($0) }
        }
    }
    private static let moneyLimits = scaledLimits(supportedMagnitude(.money))
    private static let decimalLimits = scaledLimits(supportedMagnitude(.decimal))

    private static func scaled(_ number: DecimalNumber, _ attribute: AttributeDefinition, _ entity: String) throws -> DatabaseValue {
        let places = attribute.effectivePrecision
        func outside() -> ServiceError {
            let limit = largest(attribute.type, places: places)
            return ServiceError(.invalidArgument,
                "The value \(number) of '\(attribute.name)' in '\(entity)' is outside the range of this \(attribute.type.rawValue) column with \(places) decimal places (-\(limit) to \(limit)).",
                entity: entity)
        }
        guard let value = number.rescaled(to: places) else { throw outside() }
        let limits = attribute.type == .money ? moneyLimits : decimalLimits
        if places < limits.count, let limit = limits[places], value.significand.magnitude > limit { throw outside() }
        return value.significand.databaseValue
    }

    /// The largest value a decimal or money column with `places` decimal places holds: the
    /// supported magnitude, or less where that many places leave fewer whole digits in a
    /// 64-bit significand (`922337203.6854775807` with 10 places).
    static func largest(_ type: AttributeKind, places: Int) -> String {
        let limits = type == .money ? moneyLimits : decimalLimits
        if places < limits.count, limits[places] != nil { return String(supportedMagnitude(type)) }
        let digits = String(Int64.max)
        guard places > 0, places < digits.count else { return digits }
        return digits.dropLast(places) + "." + digits.suffix(places)
    }

    private static func checkRange(_ number: Int64, _ attribute: AttributeDefinition, _ entity: String) throws {
        if let low = attribute.minValue, number < low {
            throw ServiceError(.invalidArgument, "The value \(number) of '\(attribute.name)' in '\(entity)' is below the minimum \(low).", entity: entity)
        }
        if let high = attribute.maxValue, number > high {
            throw ServiceError(.invalidArgument, "The value \(number) of '\(attribute.name)' in '\(entity)' is above the maximum \(high).", entity: entity)
        }
    }

    private static func checkChoice(_ number: Int64, _ attribute: AttributeDefinition, _ entity: String) throws {
        guard attribute.type == .choice, let options = attribute.options, !options.isEmpty else { return }
        if !options.contains(where: { $0.value == number }) {
            throw ServiceError(.invalidArgument, "\(number) is not a valid option of '\(attribute.name)' in '\(entity)'.", entity: entity)
        }
    }

    private static func wrongType(_ value: FieldValue, _ attribute: AttributeDefinition, _ entity: String) -> ServiceError {
        ServiceError(.payloadError,
            "Cannot convert the value \(value.displayText) to the type of '\(attribute.name)' (\(attribute.type.rawValue)) in '\(entity)'.",
            entity: entity)
    }
}
