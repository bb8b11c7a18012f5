import DataFiles
import EntityModel
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Blocking HTTP for the synchronous `DataService` client (`http://` on a kept-alive socket of its
/// own, `https://` through URLSession): one request at a time, a bearer
/// token on each (fixed, or from an OAuth2 token endpoint), `429` and `503` answered by
/// waiting `Retry-After` seconds out of one budget shared by the whole run.
final class HTTPTransport: @unchecked Sendable {
    private let session: URLSession
    private let credentials: WebAPICredentials
    private let budget: RetryBudget
    private let lock = NSLock()
    private var sent = 0
    private var waited = 0.0
    private var accessToken: (value: String, expires: Date)?
    private let plain = PlainHTTPConnection()

    init(credentials: WebAPICredentials, budget: RetryBudget = RetryBudget()) {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.requestCachePolicy = .reloadIgnoringLocalAndRemoteCacheData
        configuration.urlCache = nil
        session = URLSession(configuration: configuration)
        self.credentials = credentials
        self.budget = budget
    }

    /// HTTP requests sent so far: retries and token requests included.
    var requestsSent: Int { lock.withLock { sent } }

    /// Seconds spent waiting for `Retry-After` so far.
    var secondsWaited: Double { lock.withLock { waited } }

    /// Sends a request and waits for the answer; retries `429`/`503` while the budget lasts,
    /// and fetches a new OAuth2 token once on `401`.
    /// - Throws: `store.unavailable` when the server cannot be reached or keeps answering
    ///   429/503 past the retry budget; the token endpoint's failure as `auth.failed`.
    func send(_ method: String, _ url: URL, headers: [String: String] = [:], body: Data? = nil) throws -> APIResponse {
        var retries = 0
        var refreshed = false
        while true {
            var request = URLRequest(url: url)
            request.httpMethod = method
            request.setValue("Bearer \(try bearerToken())", forHTTPHeaderField: "Authorization")
            request.setValue("application/json", forHTTPHeaderField: "Accept")
            request.setValue("4.0", forHTTPHeaderField: "OData-Version")
            request.setValue("4.0", forHTTPHeaderField: "OData-MaxVersion")
            if let body {
                request.httpBody = body
                request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            }
            for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
            let response = try exchange(request)
            if response.status == 401, case .clientCredentials = credentials, !refreshed {
                refreshed = true
                lock.withLock { accessToken = nil }
                continue
            }
            guard response.status == 429 || response.status == 503 else { return response }
            let wait = Double(max(0, Int(response.header("Retry-After") ?? "") ?? 1))
            guard retries < budget.maxRetriesPerRequest, spend(wait) else { throw exhausted(response) }
            retries += 1
            if wait > 0 { Thread.sleep(forTimeInterval: wait) }
        }
    }

    /// Takes `seconds` from the run's retry budget; false when they are not left.
    private func spend(_ seconds: Double) -> Bool {
        lock.withLock {
            guard waited + seconds <= budget.totalSeconds else { return false }
            waited += seconds
            return true
        }
    }

    private func exhausted(_ response: APIResponse) -> ServiceError {
        let error = ServiceErrorFactory.from(response)
        let used = String(format: "%.0f", secondsWaited)
        return ServiceErrorFactory.unavailable(
            "The Web API answered \(response.status) (\(error.message)) and the retry budget is used up "
                + "(\(used) of \(String(format: "%.0f", budget.totalSeconds)) s waited); try again later.")
    }

    /// The token to send: the fixed one, or a valid OAuth2 access token (fetched when missing or expired).
    private func bearerToken() throws -> String {
        switch credentials {
        case .bearer(let token): return token
        case .clientCredentials(let grant):
            if let current = lock.withLock({ accessToken }), current.expires > Date() { return current.value }
            let fresh = try fetchToken(grant)
            lock.withLock { accessToken = fresh }
            return fresh.value
        }
    }

    /// `POST grant_type=client_credentials&…` to the token endpoint.
    private func fetchToken(_ grant: ClientCredentials) throws -> (value: String, expires: Date) {
        var request = URLRequest(url: grant.tokenURL)
        request.httpMethod = "POST"
        request.setValue("application/x-www-form-urlencoded", forHTTPHeaderField: "Content-Type")
        request.setValue("application/json", forHTTPHeaderField: "Accept")
        let form = [("grant_type", "client_credentials"), ("client_id", grant.clientID),
                    ("client_secret", grant.clientSecret), ("scope", grant.scope)]
        request.httpBody = Data(form.map { "\($0.0)=\(Self.formEncode($0.1))" }.joined(separator: "&").utf8)
        let response = try exchange(request)
        let json = try? JSONValue.parse(response.body)
        guard response.status == 200, let token = json?["access_token"]?.stringValue, !token.isEmpty else {
            if response.status == 429 || response.status >= 500 {
                throw ServiceErrorFactory.unavailable("The token endpoint \(grant.tokenURL.absoluteString) answered \(response.status); try again later.")
            }
            let reason = json?["error_description"]?.stringValue ?? json?["error"]?.stringValue ?? "HTTP \(response.status)"
            throw ServiceError(.authenticationFailed, "The token endpoint \(grant.tokenURL.absoluteString) refused the client credentials: \(reason)")
        }
        let lifetime = json?["expires_in"].flatMap { $0.numberText ?? $0.stringValue }.flatMap(Double.init) ?? 3600
        // renew a little early, so a token does not expire on its way to the server
        return (token, Date().addingTimeInterval(max(0, lifetime - min(60, lifetime / 10))))
    }

    private static func formEncode(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }

    private final class Outcome: @unchecked Sendable {
        var data: Data?
        var response: URLResponse?
        var error: Error?
    }

    /// One HTTP exchange, counted: `http://` over a kept-alive socket of our own, others through URLSession.
    private func exchange(_ request: URLRequest) throws -> APIResponse {
        lock.withLock { sent += 1 }
        if let url = request.url, url.scheme?.lowercased() == "http" {
            do {
                let headers = (request.allHTTPHeaderFields ?? [:]).sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
                let (status, fields, body) = try plain.exchange(method: request.httpMethod ?? "GET", url: url, headers: headers, body: request.httpBody)
                return APIResponse(status: status, headers: fields, body: body)
            } catch {
                throw ServiceErrorFactory.unavailable("Cannot reach \(url.absoluteString): \(error)")
            }
        }
        let outcome = Outcome()
        let done = DispatchSemaphore(value: 0)
        session.dataTask(with: request) { data, response, error in
            outcome.data = data
            outcome.response = response
            outcome.error = error
            done.signal()
        }.resume()
        done.wait()
        guard let http = outcome.response as? HTTPURLResponse else {
            let reason = outcome.error.map { ($0 as NSError).localizedDescription } ?? "no response"
            throw ServiceErrorFactory.unavailable("Cannot reach \(request.url?.absoluteString ?? "the server"): \(reason)")
        }
        let fields = http.allHeaderFields.map { ("\($0.key)", "\($0.value)") }
        return APIResponse(status: http.statusCode, headers: fields, body: outcome.data ?? Data())
    }
}

extension ErrorCode {
    /// The OAuth2 token endpoint refused the client credentials (product-only).
    static let authenticationFailed = ErrorCode("auth.failed", name: "AuthenticationFailed", httpStatus: 401)
}
