/// A stable error code: a real Dataverse hex code (`0x80060892`) or a product-only code
/// with a visibly different form (`script.timeout`). Match on codes, never on messages.
public struct ErrorCode: Hashable, Sendable, CustomStringConvertible {
    /// The code as the Web API writes it in `error.code`.
    public let value: String
    /// The official name (`DuplicateRecordEntityKey`) or a short product name.
    public let name: String
    /// The HTTP status the Web API answers with.
    public let httpStatus: Int

    /// Creates a code.
    public init(_ value: String, name: String, httpStatus: Int) {
        self.value = value
        self.name = name
        self.httpStatus = httpStatus
    }

    public var description: String { value }

    /// The signed 32-bit number the SDK puts in `ErrorCode`, for hex codes.
    public var sdkErrorCode: Int32? {
        guard value.hasPrefix("0x"), let raw = UInt32(value.dropFirst(2), radix: 16) else { return nil }
        return Int32(bitPattern: raw)
    }

    public static func == (lhs: ErrorCode, rhs: ErrorCode) -> Bool { lhs.value == rhs.value }
    public func hash(into hasher: inout Hasher) { hasher.combine(value) }
}

extension ErrorCode {
    /// `0x80040203` InvalidArgument.
    public static let invalidArgument = ErrorCode("0x80040203", name: "InvalidArgument", httpStatus: 400)
    /// `0x80040217` ObjectDoesNotExist.
    public static let objectDoesNotExist = ErrorCode("0x80040217", name: "ObjectDoesNotExist", httpStatus: 404)
    /// `0x80040237` DuplicateRecord (duplicate primary key).
    public static let duplicateRecord = ErrorCode("0x80040237", name: "DuplicateRecord", httpStatus: 412)
    /// `0x80044331` a string longer than the column's maximum length.
    public static let stringTooLong = ErrorCode("0x80044331", name: "StringLengthTooLong", httpStatus: 400)
    /// `0x80044352` ExpiredVersionStamp: the change token expired or is unreadable.
    public static let expiredVersionStamp = ErrorCode("0x80044352", name: "ExpiredVersionStamp", httpStatus: 400)
    /// `0x80048408` InvalidStateCodeStatusCode.
    public static let invalidStateCodeStatusCode = ErrorCode("0x80048408", name: "InvalidStateCodeStatusCode", httpStatus: 400)
    /// `0x80048d19` a payload error (wrong type, undeclared property).
    public static let payloadError = ErrorCode("0x80048d19", name: "PayloadError", httpStatus: 400)
    /// `0x80060882` ConcurrencyVersionMismatch.
    public static let concurrencyVersionMismatch = ErrorCode("0x80060882", name: "ConcurrencyVersionMismatch", httpStatus: 412)
    /// `0x80060888` an invalid key predicate (wrong columns, forbidden characters, null values).
    public static let invalidKey = ErrorCode("0x80060888", name: "InvalidKeyPredicate", httpStatus: 400)
    /// `0x8006088a` an unknown entity or entity set.
    public static let resourceNotFound = ErrorCode("0x8006088a", name: "ResourceNotFound", httpStatus: 404)
    /// `0x8006088f` InvalidEntityKeyOperation.
    public static let invalidEntityKeyOperation = ErrorCode("0x8006088f", name: "InvalidEntityKeyOperation", httpStatus: 400)
    /// `0x80060890` EntityKeyNotDefined (also: key not yet Active).
    public static let entityKeyNotDefined = ErrorCode("0x80060890", name: "EntityKeyNotDefined", httpStatus: 400)
    /// `0x80060891` RecordNotFoundByEntityKey.
    public static let recordNotFoundByEntityKey = ErrorCode("0x80060891", name: "RecordNotFoundByEntityKey", httpStatus: 404)
    /// `0x80060892` DuplicateRecordEntityKey.
    public static let duplicateRecordEntityKey = ErrorCode("0x80060892", name: "DuplicateRecordEntityKey", httpStatus: 412)
    /// `0x80060893` EntityKeyNameExists.
    public static let entityKeyNameExists = ErrorCode("0x80060893", name: "EntityKeyNameExists", httpStatus: 400)
    /// `0x80060894` EntityKeyWithSelectedAttributesExists.
    public static let entityKeyWithSelectedAttributesExists = ErrorCode("0x80060894", name: "EntityKeyWithSelectedAttributesExists", httpStatus: 400)
    /// `0x80060895` IndexSizeConstraintViolated.
    public static let indexSizeConstraintViolated = ErrorCode("0x80060895", name: "IndexSizeConstraintViolated", httpStatus: 400)
    /// `0x80060897` ReactivateEntityKeyOnlyForFailedJobs.
    public static let reactivateEntityKeyOnlyForFailedJobs = ErrorCode("0x80060897", name: "ReactivateEntityKeyOnlyForFailedJobs", httpStatus: 400)
    /// `0x80072491` ChangeTrackingNotEnabledForEntity.
    public static let changeTrackingNotEnabled = ErrorCode("0x80072491", name: "ChangeTrackingNotEnabledForEntity", httpStatus: 400)
    /// `0x0` an unknown property (the Web API's code for OData validation errors).
    public static let unknownProperty = ErrorCode("0x0", name: "UnknownProperty", httpStatus: 400)
    /// `schema.invalid` a schema definition cdsync cannot apply (product-only).
    public static let schemaInvalid = ErrorCode("schema.invalid", name: "SchemaInvalid", httpStatus: 400)
    /// `query.invalid` a filter or query cdsync cannot parse (product-only).
    public static let queryInvalid = ErrorCode("query.invalid", name: "QueryInvalid", httpStatus: 400)
    /// `batch.not_sent` a write that never reached the store because an earlier record of its batch failed (product-only).
    public static let notSent = ErrorCode("batch.not_sent", name: "NotSent", httpStatus: 424)
    /// `store.not_a_store` the file is another program's SQLite database (product-only; not retried).
    public static let notAStore = ErrorCode("store.not_a_store", name: "NotAStore", httpStatus: 500)
    /// `store.unavailable` the store could not be opened or written (product-only; temporary).
    public static let storeUnavailable = ErrorCode("store.unavailable", name: "StoreUnavailable", httpStatus: 503)
}
