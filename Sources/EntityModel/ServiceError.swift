/// The one error type of the data service: a code, a message, and where it happened.
public struct ServiceError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The stable code.
    public var code: ErrorCode
    /// A human message (Dataverse wording where it exists).
    public var message: String
    /// The entity the failing request addressed, when known.
    public var entity: String?
    /// The record's key as people read it (`accountnumber='A1'`), when known.
    public var key: String?
    /// The 0-based index of the failing request inside a batch or transaction.
    public var requestIndex: Int?
    /// Extra details (`MaxBatchSize`, …).
    public var details: [String: String]

    /// Creates an error.
    public init(_ code: ErrorCode, _ message: String, entity: String? = nil, key: String? = nil,
                requestIndex: Int? = nil, details: [String: String] = [:]) {
        self.code = code
        self.message = message
        self.entity = entity
        self.key = key
        self.requestIndex = requestIndex
        self.details = details
    }

    /// `message [code]`, the form used in logs and by the CLI.
    public var description: String { "\(message) [\(code.value)]" }

    /// The same error carrying the index of the request that failed.
    public func at(index: Int) -> ServiceError {
        var copy = self
        copy.requestIndex = index
        return copy
    }
}
