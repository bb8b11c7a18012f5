import DataFiles
import EntityModel
import Foundation

/// The data service over HTTP: a client of a Dataverse-style Web API (`cdsync serve`).
/// Scripts run unchanged against it; every rule is the server's.
///
/// Synchronous like every `DataService`: each call blocks its thread until the answer arrives.
public final class WebAPIClient: DataService, RequestCounting, @unchecked Sendable {
    /// `http://host:port/api/data/v9.2/`.
    let root: String
    let transport: HTTPTransport
    private let lock = NSLock()
    private var cachedCatalog: Catalog?

    /// A client for an API root (`http://127.0.0.1:8080/api/data/v9.2/`) with a bearer token.
    public convenience init(root: URL, token: String) {
        self.init(root: root, credentials: .bearer(token))
    }

    /// A client for an API root with a token or an OAuth2 client-credentials grant, and the
    /// run's budget of waiting on `429`/`503`.
    public init(root: URL, credentials: WebAPICredentials, retryBudget: RetryBudget = RetryBudget()) {
        let text = root.absoluteString
        self.root = text.hasSuffix("/") ? text : text + "/"
        transport = HTTPTransport(credentials: credentials, budget: retryBudget)
    }

    /// HTTP requests sent so far (retries and token requests included).
    public var requestsSent: Int { transport.requestsSent }

    /// Seconds spent waiting on `Retry-After` so far.
    public var secondsWaitedForRetry: Double { transport.secondsWaited }

    /// The definitions of all entities (read once, then kept).
    /// - Throws: the server's error, or `store.unavailable` when it cannot be reached.
    public func entityDefinitions() throws -> [EntityDefinition] { try catalog().definitions }

    /// Executes one request over HTTP.
    /// - Throws: `ServiceError` with the code the server answered.
    public func execute(_ request: ServiceRequest) throws -> ServiceResponse {
        switch request {
        case .retrieveMultiple(let query): return .records(try runQuery(query))
        case .retrieveChanges(let changesRequest): return .changes(try changes(changesRequest))
        case .createMultiple, .updateMultiple, .upsertMultiple: return try bulk(request)
        case .executeMultiple(let requests, let continueOnError, let returnResponses):
            return try executeMultiple(requests, continueOnError: continueOnError, returnResponses: returnResponses)
        case .executeTransaction(let requests, let returnResponses):
            return try executeTransaction(requests, returnResponses: returnResponses)
        default:
            let plan = try plan(request)
            return try plan.decode(try check(send(plan), entity: request.entity))
        }
    }

    func catalog() throws -> Catalog {
        if let cached = lock.withLock({ cachedCatalog }) { return cached }
        let response = try check(transport.send("GET", url("EntityDefinitions?$expand=Attributes,Keys")))
        let rows = try JSONValue.parse(response.body)["value"]?.arrayValue ?? []
        let catalog = Catalog(try rows.map(ClientDecoding.definition))
        lock.withLock { cachedCatalog = catalog }
        return catalog
    }

    func definition(_ entity: String) throws -> EntityDefinition {
        guard let definition = try catalog().entity(named: entity) else {
            throw ServiceError(.resourceNotFound, "The entity '\(entity)' does not exist.", entity: entity)
        }
        return definition
    }

    func url(_ path: String) throws -> URL {
        guard let url = URL(string: path.hasPrefix("http") ? path : root + path) else {
            throw ServiceError(.invalidArgument, "Cannot build a URL from '\(path)'.")
        }
        return url
    }

    /// Throws the error a response carries.
    @discardableResult
    func check(_ response: APIResponse, entity: String? = nil) throws -> APIResponse {
        guard response.status < 400 else { throw ServiceErrorFactory.from(response, entity: entity) }
        return response
    }

    func send(_ plan: RequestPlan) throws -> APIResponse {
        try transport.send(plan.method, url(plan.path), headers: plan.headers, body: plan.body)
    }
}

/// One single-record request as HTTP, and how to read its answer.
struct RequestPlan {
    var method: String
    /// Relative to the API root: `accounts(accountnumber='A1')?$select=accountid`.
    var path: String
    var headers: [String: String] = [:]
    var body: Data?
    var decode: (APIResponse) throws -> ServiceResponse
}
