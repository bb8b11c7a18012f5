import Foundation

/// Upsert's guard (`If-None-Match: *` / `If-Match: *` in the Web API).
public enum UpsertMode: String, Sendable {
    /// Create or update.
    case createOrUpdate
    /// Fail with DuplicateRecord when the record exists.
    case createOnly
    /// Fail with not-found when the record does not exist.
    case updateOnly
}

/// One request to the data service, Dataverse style.
public enum ServiceRequest: Sendable {
    /// Creates a record; `id` picks the GUID (else a sequential one is issued).
    case create(entity: String, id: RecordID?, fields: [String: FieldValue])
    /// Retrieves one record's columns (nil columns = all).
    case retrieve(EntityReference, columns: [String]?)
    /// Updates a record found by GUID or alternate key; `ifVersion` is optimistic concurrency.
    case update(EntityReference, fields: [String: FieldValue], ifVersion: Int64?)
    /// Creates or updates a record found by GUID or alternate key.
    case upsert(EntityReference, fields: [String: FieldValue], mode: UpsertMode)
    /// `upsert` with its values in a shared shape's column order (bulk loads from scripts);
    /// `RowUpsert.request` is its general form.
    case upsertRow(RowUpsert)
    /// Deletes a record.
    case delete(EntityReference, ifVersion: Int64?)
    /// Runs a query.
    case retrieveMultiple(Query)
    /// Reads changes since a token (nil = initial sync).
    case retrieveChanges(ChangesRequest)
    /// Creates many records of one entity, all or nothing.
    case createMultiple(entity: String, targets: [Record])
    /// Updates many records of one entity, all or nothing; the first target per record wins.
    case updateMultiple(entity: String, targets: [(EntityReference, [String: FieldValue])])
    /// Upserts many records of one entity, all or nothing; duplicate targets are an error.
    case upsertMultiple(entity: String, targets: [(EntityReference, [String: FieldValue])])
    /// Runs requests in order, each in its own transaction (ExecuteMultiple).
    case executeMultiple([ServiceRequest], continueOnError: Bool, returnResponses: Bool)
    /// Runs requests in one transaction (ExecuteTransaction).
    case executeTransaction([ServiceRequest], returnResponses: Bool)

    /// The entity the request addresses, when it addresses one.
    public var entity: String? {
        switch self {
        case .create(let entity, _, _), .createMultiple(let entity, _), .updateMultiple(let entity, _),
             .upsertMultiple(let entity, _):
            return entity
        case .retrieve(let reference, _), .update(let reference, _, _), .upsert(let reference, _, _),
             .delete(let reference, _):
            return reference.entity
        case .upsertRow(let row): return row.entity
        case .retrieveMultiple(let query): return query.entity
        case .retrieveChanges(let request): return request.entity
        case .executeMultiple, .executeTransaction: return nil
        }
    }

    /// The most requests one ExecuteMultiple, ExecuteTransaction or `$batch` may hold (SPEC §5).
    public static let maxBatchSize = 1000

    /// True for the batch messages that may not nest.
    public var isBatch: Bool {
        switch self {
        case .executeMultiple, .executeTransaction: return true
        default: return false
        }
    }
}

/// One item of an ExecuteMultiple response.
public struct BatchItem: Sendable {
    /// The 0-based index of the request.
    public var requestIndex: Int
    /// The response, when the request succeeded.
    public var response: ServiceResponse?
    /// The fault, when it failed.
    public var fault: ServiceError?

    /// Creates an item.
    public init(requestIndex: Int, response: ServiceResponse?, fault: ServiceError?) {
        self.requestIndex = requestIndex
        self.response = response
        self.fault = fault
    }
}

/// What the data service answers.
public indirect enum ServiceResponse: Sendable {
    /// Create: the new record's id.
    case created(RecordID)
    /// Retrieve: the record.
    case record(Record)
    /// Update: whether anything changed, and the row version after it.
    case updated(id: RecordID, changed: Bool, version: Int64)
    /// Upsert: the record's id and whether it was created.
    case upserted(id: RecordID, created: Bool, changed: Bool)
    /// Delete.
    case deleted(RecordID)
    /// A query page.
    case records(QueryPage)
    /// A change-feed page.
    case changes(EntityChanges)
    /// CreateMultiple: ids in target order.
    case createdMany([RecordID])
    /// UpdateMultiple / UpsertMultiple: one response per target.
    case many([ServiceResponse])
    /// ExecuteMultiple; `isFaulted` is true exactly when an item has a fault.
    case batch(isFaulted: Bool, items: [BatchItem])
    /// ExecuteTransaction: responses in request order (empty when not requested).
    case transaction([ServiceResponse])

    /// The record id the response names, when there is one.
    public var recordID: RecordID? {
        switch self {
        case .created(let id), .deleted(let id): return id
        case .updated(let id, _, _), .upserted(let id, _, _): return id
        case .record(let record): return record.id
        default: return nil
        }
    }
}

/// The data service: execute a request (a batch is a request too), Dataverse style.
/// The embedded store implements it on SQLite; a Web API client implements it over HTTP.
///
/// It is synchronous on purpose: the Lua host calls it from its own thread between script
/// steps, never from Swift concurrency's small pool, so a blocking transport cannot starve it.
public protocol DataService: AnyObject, Sendable {
    /// Executes one request.
    /// - Throws: `ServiceError` with the Dataverse code of the failure.
    func execute(_ request: ServiceRequest) throws -> ServiceResponse

    /// The definitions of all entities.
    /// - Throws: `ServiceError` when they cannot be read.
    func entityDefinitions() throws -> [EntityDefinition]
}

/// A service that can hold one transaction open for a whole run (`cdsync run --atomic` and
/// `--dry-run`); the embedded store can, a remote Web API cannot.
public protocol RunTransactionSupport: AnyObject {
    /// Opens the run's transaction; every later request runs inside it.
    /// - Throws: `ServiceError` when one is already open or the store cannot begin it.
    func beginRunTransaction() throws
    /// Commits or rolls back the run's transaction.
    /// - Throws: `ServiceError` when the commit fails (everything is rolled back then).
    func endRunTransaction(commit: Bool) throws
    /// True while a transaction is open (false after SQLite rolled one back by itself).
    var isRunTransactionOpen: Bool { get }
    /// True when the open transaction's changes no longer fit the page cache (they started
    /// spilling to the log before the commit) since the last time this was asked.
    func runTransactionOutgrewCache() -> Bool
}

/// Where named change tokens are kept between runs (the store itself, or a local state file).
public protocol TokenStore: AnyObject, Sendable {
    /// The token saved under a name, nil when none.
    func token(named name: String) throws -> SavedToken?
    /// Saves (or replaces) a token.
    func saveToken(_ token: SavedToken) throws
    /// All saved tokens, sorted by name.
    func allTokens() throws -> [SavedToken]
    /// Forgets a token; the next run under that name does a full sync. Returns whether it existed.
    func removeToken(named name: String) throws -> Bool
}

/// A change token saved under a name.
public struct SavedToken: Equatable, Sendable {
    /// The name scripts use (`to-warehouse`).
    public var name: String
    /// The token text.
    public var token: String
    /// The entity it tracks.
    public var entity: String
    /// When it was saved.
    public var updatedAt: Date

    /// Creates a saved token.
    public init(name: String, token: String, entity: String, updatedAt: Date) {
        self.name = name
        self.token = token
        self.entity = entity
        self.updatedAt = updatedAt
    }
}
