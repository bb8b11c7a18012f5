import DataFiles
import EntityModel
import Foundation

/// Answers Web API requests from a `DataService`. It only translates between HTTP and service
/// requests; every Dataverse rule is the service's. Synchronous: the server calls it on the
/// engine's serial queue, so a `$batch` change set can hold one transaction across its parts.
final class WebAPIHandler: Sendable {
    let service: any DataService

    init(service: any DataService) {
        self.service = service
    }

    /// One request, with the scheme and authority links are built from (`http://127.0.0.1:8080`).
    func handle(_ request: APIRequest, origin: String, insideBatch: Bool = false, contentIDs: [String: String] = [:]) -> APIResponse {
        do {
            guard request.target.utf8.count <= (insideBatch ? 65_536 : 32_768) else {
                throw ServiceError(.uriTooLong, "The request URL is longer than \(insideBatch ? "65,536" : "32,768") characters.")
            }
            var request = request
            request.target = try Self.resolveTarget(request.target, contentIDs: contentIDs)
            let call = try Call(request: request, origin: origin, catalog: Catalog(service.entityDefinitions()),
                                insideBatch: insideBatch, contentIDs: contentIDs)
            return try route(call)
        } catch let error as ServiceError {
            return .error(error)
        } catch {
            return .error(ServiceError(.internalError, "Unexpected failure: \(error)"))
        }
    }

    /// A batch part's target as a path under the API root: `$1/…` becomes the record that
    /// Content-ID 1 created, and a relative `accounts` becomes `/api/data/v9.2/accounts`.
    /// - Throws: `0x80060888` for a Content-ID that was not declared before.
    private static func resolveTarget(_ target: String, contentIDs: [String: String]) throws -> String {
        if target.hasPrefix("$") && !target.hasPrefix("$batch") && !target.hasPrefix("$metadata") {
            let end = target.firstIndex { $0 == "/" || $0 == "?" } ?? target.endIndex
            let reference = String(target[..<end])
            guard let path = contentIDs[reference] else {
                throw ServiceError(.invalidKey, "Content-ID Reference: '\(reference)' does not exist in the batch context.")
            }
            return ResourcePath.root + "/" + path + target[end...]
        }
        if !target.hasPrefix("/") && !target.contains("://") { return ResourcePath.root + "/" + target }
        return target
    }

    private func route(_ call: Call) throws -> APIResponse {
        try call.checkOptions()
        guard let first = call.path.segments.first else {
            try call.require(["GET"])
            return serviceDocument(call)
        }
        switch first.name {
        case "$metadata" where first.predicate == nil:
            try call.require(["GET"])
            return csdl(call)
        case "$batch" where first.predicate == nil:
            try call.require(["POST"])
            return try batch(call)
        case "EntityDefinitions":
            try call.require(["GET"])
            return try entityDefinitions(call)
        default:
            return try entitySet(call, try call.catalog.entity(set: first.name))
        }
    }

    private func entitySet(_ call: Call, _ definition: EntityDefinition) throws -> APIResponse {
        let segments = call.path.segments
        let first = segments[0]
        if let predicate = first.predicate {
            let reference = try BodyDecoder.reference(definition, predicate: predicate)
            switch segments.count {
            case 1: return try record(call, definition, reference, rawPredicate: first.rawPredicate ?? predicate)
            case 2, 3: return try property(call, definition, reference, segments[1].name, suffix: segments.count == 3 ? segments[2].name : nil)
            default: throw ServiceError(.resourceNotFound, "Resource not found for the segment '\(segments[3].name)'.")
            }
        }
        switch segments.count {
        case 1: return try collection(call, definition)
        case 2 where segments[1].name == "$count" && segments[1].predicate == nil:
            try call.require(["GET"])
            return try countOnly(call, definition)
        case 2 where segments[1].name.hasPrefix("Microsoft.Dynamics.CRM."):
            try call.require(["POST"])
            return try bulk(call, definition, action: String(segments[1].name.dropFirst("Microsoft.Dynamics.CRM.".count)))
        default:
            throw ServiceError(.resourceNotFound, "Resource not found for the segment '\(segments[1].name)'.")
        }
    }

    private func serviceDocument(_ call: Call) -> APIResponse {
        let sets = call.catalog.definitions.map(\.setName).sorted() + ["EntityDefinitions"]
        let value: [JSONValue] = sets.map {
            .object([("name", .string($0)), ("kind", .string("EntitySet")), ("url", .string($0))])
        }
        return .json(200, .object([("@odata.context", .string("\(call.base)/$metadata")), ("value", .array(value))]))
    }

    /// Executes one service request.
    func execute(_ request: ServiceRequest) throws -> ServiceResponse {
        try service.execute(request)
    }

    /// Retrieves one record.
    func retrieve(_ reference: EntityReference, columns: [String]?) throws -> Record {
        guard case .record(let record) = try service.execute(.retrieve(reference, columns: columns)) else {
            throw ServiceError(.internalError, "The service answered a retrieve with something other than a record.")
        }
        return record
    }
}

/// One request being answered: the request, its parsed path, the entity catalog and the link base.
struct Call {
    let request: APIRequest
    let path: ResourcePath
    let catalog: Catalog
    /// `http://host:port/api/data/v9.2`.
    let base: String
    /// `http://host:port`.
    let origin: String
    /// True for a part of a `$batch`.
    let insideBatch: Bool
    /// Content-ID references, inside a change set.
    var contentIDs: [String: String] = [:]

    init(request: APIRequest, origin: String, catalog: Catalog, insideBatch: Bool = false, contentIDs: [String: String] = [:]) throws {
        self.request = request
        self.catalog = catalog
        self.origin = origin
        self.insideBatch = insideBatch
        self.contentIDs = contentIDs
        base = origin + ResourcePath.root
        path = try ResourcePath(target: request.target)
        preferences = request.preferences
    }

    var options: QueryOptions { path.options }
    /// The `Prefer` header's preferences (parsed once per request).
    let preferences: Preferences
    var decoder: BodyDecoder { BodyDecoder(catalog: catalog, contentIDs: contentIDs) }
    /// Whether lookups carry `@Microsoft.Dynamics.CRM.lookuplogicalname`.
    var lookupNames: Bool { preferences.includesAnnotation(RecordJSON.lookupLogicalName) }

    /// Options the Web API rejects (`$skip`, `$search`, `$format`, `$apply`) and unknown system options.
    func checkOptions() throws {
        let supported: Set<String> = ["$select", "$filter", "$orderby", "$top", "$count", "$expand", "$skiptoken", "$deltatoken"]
        for (name, _) in options.items where name.hasPrefix("$") && !supported.contains(name) {
            throw ServiceError(.invalidKey, "The query parameter '\(name)' is not supported.")
        }
    }

    /// Fails with 405 unless the method is one of `methods`.
    func require(_ methods: Set<String>) throws {
        guard methods.contains(request.method) else {
            throw ServiceError(.methodNotAllowed, "The requested resource does not support http method '\(request.method)'.")
        }
    }

    /// The row version an `If-Match`/`If-None-Match` ETag names (`W/"12"`), nil for `*`, `null` or none.
    /// - Throws: `0x80060888` for an ETag that is not a version.
    func version(inHeader name: String) throws -> Int64? {
        guard let value = request.header(name)?.trimmingWhitespace(), value != "*", value != "null" else { return nil }
        let digits = value.replacingOccurrences(of: "W/", with: "").trimmingCharacters(in: CharacterSet(charactersIn: "\""))
        guard let version = Int64(digits) else { throw ServiceError(.invalidKey, "The ETag '\(value)' is not valid.") }
        return version
    }

    /// The JSON body as object members.
    func bodyObject() throws -> [(String, JSONValue)] { try RecordJSON.parseObject(request.body) }

    /// The `$select` list, checked for emptiness.
    var select: [String]? { options.select }
}
