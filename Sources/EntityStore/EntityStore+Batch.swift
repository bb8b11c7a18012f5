import EntityModel
import GRDB

extension EntityStore {
    /// The most requests one batch may hold (SPEC §5 rule 3).
    public static let maxBatchSize = ServiceRequest.maxBatchSize

    /// ExecuteMultiple: each request in order, stopping at the first fault unless
    /// `continueOnError`. A request that fails leaves nothing behind: creates, updates and
    /// upserts check everything before their one statement; deletes check everything before
    /// their first statement, and a failure after it (the store's, not the request's: I/O)
    /// fails the whole batch, which is rolled back; other requests run in a savepoint each.
    /// (A delete in a savepoint of its own made SQLite journal every page it changed once more,
    /// on top of the batch's journal: 1,000 scattered deletes wrote ~37 MB to a temporary file.)
    /// - Throws: `0x80040203` with `MaxBatchSize` before anything runs when over 1000 requests.
    func executeMultiple(_ requests: [ServiceRequest], continueOnError: Bool,
                         returnResponses: Bool) throws -> ServiceResponse {
        try checkBatchSize(requests.count)
        var items: [BatchItem] = []
        var faulted = false
        try write { context in
            for (index, request) in requests.enumerated() {
                do {
                    if request.isBatch {
                        throw ServiceError(.invalidArgument, "ExecuteMultiple cannot contain another ExecuteMultiple or ExecuteTransaction request.")
                    }
                    var response: ServiceResponse?
                    if Self.isSingleStatementWrite(request) {
                        // fails before its one write statement, or in it: nothing partial to undo
                        response = try perform(request, context)
                    } else if case .delete = request {
                        context.requestHasWritten = false
                        do {
                            response = try perform(request, context)
                        } catch where context.requestHasWritten {
                            throw BatchFailure(error: error)
                        }
                    } else {
                        do {
                            try context.db.inSavepoint {
                                response = try perform(request, context)
                                return .commit
                            }
                        } catch {
                            clearLookupCache()  // the savepoint's writes are gone
                            throw error
                        }
                    }
                    if returnResponses { items.append(BatchItem(requestIndex: index, response: response, fault: nil)) }
                } catch let failure as BatchFailure {
                    throw failure.error  // the batch's transaction or savepoint undoes what the request began
                } catch {
                    faulted = true
                    items.append(BatchItem(requestIndex: index, response: nil, fault: serviceError(error).at(index: index)))
                    if !continueOnError { break }
                }
            }
        }
        return .batch(isFaulted: faulted, items: items)
    }

    /// A failure inside a request after it began writing without a savepoint of its own.
    private struct BatchFailure: Error {
        let error: Error
    }

    /// Create, update and upsert check everything (lookups, types, state) before their single
    /// INSERT or UPDATE, so a failure leaves nothing to roll back and needs no savepoint.
    static func isSingleStatementWrite(_ request: ServiceRequest) -> Bool {
        switch request {
        case .create, .update, .upsert, .upsertRow: return true
        default: return false
        }
    }

    /// ExecuteTransaction: all requests in one transaction; any failure rolls everything back.
    /// - Throws: the failing request's error with its 0-based `requestIndex`; `0x80040203` for nested batches.
    func executeTransaction(_ requests: [ServiceRequest], returnResponses: Bool) throws -> ServiceResponse {
        try checkBatchSize(requests.count)
        if let nested = requests.firstIndex(where: \.isBatch) {
            throw ServiceError(.invalidArgument, "ExecuteTransaction cannot contain ExecuteMultiple or ExecuteTransaction requests.",
                               requestIndex: nested)
        }
        let responses: [ServiceResponse] = try write { context in
            try requests.enumerated().map { index, request in
                do { return try perform(request, context) } catch { throw serviceError(error).at(index: index) }
            }
        }
        return .transaction(returnResponses ? responses : [])
    }

    /// Reads inside a batch run on the write transaction's connection.
    func executeNested(_ request: ServiceRequest, _ context: WriteContext) throws -> ServiceResponse {
        switch request {
        case .retrieve(let reference, let columns):
            return .record(try retrieve(reference, columns: columns, context.db))
        case .retrieveMultiple(let query):
            return .records(try runQuery(query, context.db))
        default:
            throw ServiceError(.invalidArgument, "This request cannot run inside a batch.")
        }
    }

    func updateMultiple(_ entity: String, _ targets: [(EntityReference, [String: FieldValue])],
                        _ context: WriteContext) throws -> [ServiceResponse] {
        var seen = Set<String>()
        var responses: [ServiceResponse] = []
        for (index, (reference, fields)) in targets.enumerated() {
            do {
                guard reference.entity == entity else { throw mixedEntities(entity, reference) }
                let (table, row) = try requireRow(reference, context.db)
                let id = try Self.rowID(row, table).description
                guard seen.insert(id).inserted else { continue }
                let result = try update(table, row, fields: fields, context)
                responses.append(.updated(id: result.id, changed: result.changed, version: result.version))
            } catch { throw serviceError(error).at(index: index) }
        }
        return responses
    }

    func upsertMultiple(_ entity: String, _ targets: [(EntityReference, [String: FieldValue])],
                        _ context: WriteContext) throws -> [ServiceResponse] {
        var seen = Set<EntityReference>()
        for (index, (reference, _)) in targets.enumerated() where !seen.insert(reference).inserted {
            throw ServiceError(.invalidArgument, "UpsertMultiple has more than one target for \(reference).",
                               entity: entity, key: reference.keyDescription, requestIndex: index)
        }
        return try targets.enumerated().map { index, target in
            do {
                guard target.0.entity == entity else { throw mixedEntities(entity, target.0) }
                return try perform(.upsert(target.0, fields: target.1, mode: .createOrUpdate), context)
            } catch { throw serviceError(error).at(index: index) }
        }
    }

    private func checkBatchSize(_ count: Int) throws {
        guard count <= Self.maxBatchSize else {
            throw ServiceError(.invalidArgument,
                "The batch holds \(count) requests; at most \(Self.maxBatchSize) are allowed.",
                details: ["MaxBatchSize": String(Self.maxBatchSize)])
        }
    }

    private func mixedEntities(_ entity: String, _ reference: EntityReference) -> ServiceError {
        ServiceError(.invalidArgument, "All targets must be '\(entity)' records; found \(reference).", entity: entity)
    }

    func serviceError(_ error: Error) -> ServiceError {
        if let error = error as? ServiceError { return error }
        return ServiceError(.storeUnavailable, "The store failed: \(error)")
    }
}
