import EntityModel
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

/// `cdsync serve`: the Dataverse Web API (`/api/data/v9.2`) over any `DataService`.
public struct WebAPIServer: Sendable {
    /// What the server listens on and what it accepts.
    public struct Configuration: Sendable {
        /// The interface (`127.0.0.1` by default).
        public var host: String
        /// The port; 0 picks a free one.
        public var port: Int
        /// Bearer tokens that are accepted.
        public var tokens: Set<String>
        /// The largest request body, in bytes (413 past it).
        public var maxBodyBytes: Int
        /// An optional request budget (429 past it).
        public var limit: RequestLimit?
        /// Seconds a connection may stay idle (no byte read or written, no request being
        /// answered) before it is closed, one that never finishes its request's head included:
        /// otherwise such connections would pile up until the process ran out of descriptors.
        public var idleTimeout: Double = 30

        /// Creates a configuration.
        public init(host: String = "127.0.0.1", port: Int = 8080, tokens: Set<String>,
                    maxBodyBytes: Int = 32 * 1024 * 1024, limit: RequestLimit? = nil) {
            self.host = host
            self.port = port
            self.tokens = tokens
            self.maxBodyBytes = maxBodyBytes
            self.limit = limit
        }
    }

    let configuration: Configuration
    let handler: WebAPIHandler
    let engine = EngineQueue()
    let limiter: RequestLimiter?
    /// The port the server listens on (the configured one, or the one the system chose for 0),
    /// for links when a request's `Host` cannot serve.
    private let boundPort = BoundPort()

    /// A server for a service.
    public init(service: any DataService, configuration: Configuration) {
        self.configuration = configuration
        handler = WebAPIHandler(service: service)
        limiter = configuration.limit.map(RequestLimiter.init)
    }

    /// Runs until cancelled (or, with `handleSignals`, until SIGINT/SIGTERM); `onListening`
    /// gets the API root URL once the port is bound.
    /// - Throws: when the address cannot be bound.
    public func run(handleSignals: Bool = false, onListening: @escaping @Sendable (URL) async -> Void) async throws {
        let server = self
        let responder = CallbackResponder<BasicRequestContext> { request, _ in
            await server.respond(to: request)
        }
        let host = configuration.host
        var logger = Logger(label: "cdsync.serve")
        logger.logLevel = .critical
        let app = Application(
            responder: responder,
            server: .http1(configuration: .init(additionalChannelHandlers: [ContinueHandler()],
                                                idleTimeout: .milliseconds(Int64(configuration.idleTimeout * 1000)))),
            configuration: .init(address: .hostname(host, port: configuration.port), serverName: "cdsync"),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? 0
                server.boundPort.set(port)
                await onListening(URL(string: "http://\(host):\(port)\(ResourcePath.root)/")!)
            },
            logger: logger)
        try await app.runService(gracefulShutdownSignals: handleSignals ? [.sigterm, .sigint] : [])
    }

    /// Collects the body, checks the token and the budget, then answers on the engine queue.
    func respond(to request: Request) async -> Response {
        let headers = Dictionary(request.headers.map { ($0.name.canonicalName, $0.value) }, uniquingKeysWith: { "\($0), \($1)" })
        let origin = "http://\(Self.validAuthority(request.head.authority ?? headers["host"]) ?? "\(configuration.host):\(boundPort.get() ?? configuration.port)")"
        guard let token = bearerToken(headers["authorization"]) else {
            return Self.response(.error(ServiceError(.unauthorized, "The request has no valid bearer token: send 'Authorization: Bearer <token>'."),
                                        headers: [("WWW-Authenticate", "Bearer")]))
        }
        if let limiter, let wait = limiter.admit(client: token) {
            return Self.response(.error(ServiceError(.tooManyRequests, limiter.message), headers: [("Retry-After", String(wait))]))
        }
        var request = request
        let body: Data
        do {
            if let length = headers["content-length"].flatMap(Int.init), length > configuration.maxBodyBytes { throw HTTPError(.contentTooLarge) }
            body = Data(buffer: try await request.collectBody(upTo: configuration.maxBodyBytes))
        } catch let error as any HTTPResponseError where error.status == .contentTooLarge {
            return Self.response(.error(ServiceError(.payloadTooLarge,
                "The request body is larger than the limit of \(configuration.maxBodyBytes) bytes.")))
        } catch {
            // a body cut short, or sent in an encoding the server does not read: not a size problem
            return Self.response(.error(ServiceError(.payloadError, "The request body could not be read: \(error).")))
        }
        let apiRequest = APIRequest(method: request.method.rawValue, target: request.head.path ?? "/", headers: headers, body: body)
        let handler = self.handler
        return Self.response(await engine.run { handler.handle(apiRequest, origin: origin) })
    }

    /// The request's `Host` (which the links in answers start with) when it is a host name, an
    /// IPv4 or a bracketed IPv6 address with an optional port; nil for anything else (a path,
    /// user info, spaces or quotes would make every link in the answer malformed).
    static func validAuthority(_ authority: String?) -> String? {
        guard let authority, !authority.isEmpty, authority.utf8.count <= 255 else { return nil }
        var host = Substring(authority), port: Substring?
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { return nil }
            let inside = host[host.index(after: host.startIndex)..<close]
            guard !inside.isEmpty, inside.allSatisfy({ $0.isASCII && ($0.isHexDigit || $0 == ":" || $0 == ".") }) else { return nil }
            let rest = host[host.index(after: close)...]
            if !rest.isEmpty {
                guard rest.hasPrefix(":") else { return nil }
                port = rest.dropFirst()
            }
            host = host[...close]
        } else {
            if let colon = host.firstIndex(of: ":") {
                port = host[host.index(after: colon)...]
                host = host[..<colon]
            }
            guard !host.isEmpty, host.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "." || $0 == "-") }) else { return nil }
        }
        if let port {
            guard !port.isEmpty, port.count <= 5, port.allSatisfy({ $0.isASCII && $0.isNumber }), let number = Int(port),
                  number <= 65535 else { return nil }
        }
        return authority
    }

    /// The token of `Authorization: Bearer <token>` when it is one of the accepted tokens.
    private func bearerToken(_ header: String?) -> String? {
        guard let header, header.lowercased().hasPrefix("bearer ") else { return nil }
        let given = header.dropFirst("bearer ".count).trimmingWhitespace()
        return configuration.tokens.first { Self.constantTimeEqual($0, given) }
    }

    private static func constantTimeEqual(_ left: String, _ right: String) -> Bool {
        let a = Array(left.utf8), b = Array(right.utf8)
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in a.indices { difference |= a[index] ^ b[index] }
        return difference == 0
    }

    static func response(_ response: APIResponse) -> Response {
        var fields = HTTPFields()
        for (name, value) in response.headers {
            if let fieldName = HTTPField.Name(name) { fields.append(HTTPField(name: fieldName, value: value)) }
        }
        let status = HTTPResponse.Status(code: response.status, reasonPhrase: reasonPhrase(response.status))
        if response.status == 204 || response.status == 304 {
            return Response(status: status, headers: fields)
        }
        return Response(status: status, headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(bytes: response.body)))
    }

    /// The standard reason phrase (also used in `$batch` status lines).
    static func reasonPhrase(_ status: Int) -> String {
        switch status {
        case 200: return "OK"
        case 201: return "Created"
        case 204: return "No Content"
        case 304: return "Not Modified"
        case 400: return "Bad Request"
        case 401: return "Unauthorized"
        case 403: return "Forbidden"
        case 404: return "Not Found"
        case 405: return "Method Not Allowed"
        case 412: return "Precondition Failed"
        case 413: return "Payload Too Large"
        case 414: return "URI Too Long"
        case 424: return "Failed Dependency"
        case 429: return "Too Many Requests"
        case 500: return "Internal Server Error"
        case 501: return "Not Implemented"
        case 503: return "Service Unavailable"
        default: return ""
        }
    }
}

/// The port a running server is bound to, set once it listens.
private final class BoundPort: @unchecked Sendable {
    private let lock = NSLock()
    private var port: Int?

    func set(_ value: Int) { lock.withLock { port = value } }
    func get() -> Int? { lock.withLock { port } }
}
