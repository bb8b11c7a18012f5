import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Blocking HTTP for the synchronous `DataService` client: one request at a time, a bearer
/// token on each, and `429` answered by waiting `Retry-After` seconds (up to three times).
final class HTTPTransport: @unchecked Sendable {
    private let session: URLSession
    private let token: String
    private let maxRetries = 3

    init(token: String) {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.requestCachePolicy = .reloadIgnoringLocalAndRemoteCacheData
        configuration.urlCache = nil
        session = URLSession(configuration: configuration)
        self.token = token
    }

    private final class Outcome: @unchecked Sendable {
        var data: Data?
        var response: URLResponse?
        var error: Error?
    }

    /// Sends a request and waits for the answer.
    /// - Throws: `store.unavailable` when the server cannot be reached.
    func send(_ method: String, _ url: URL, headers: [String: String] = [:], body: Data? = nil) throws -> APIResponse {
        var attempt = 0
        while true {
            let response = try sendOnce(method, url, headers: headers, body: body)
            guard response.status == 429, attempt < maxRetries else { return response }
            attempt += 1
            let wait = min(Int(response.header("Retry-After") ?? "") ?? 1, 60)
            Thread.sleep(forTimeInterval: Double(max(wait, 1)))
        }
    }

    private func sendOnce(_ method: String, _ url: URL, headers: [String: String], body: Data?) throws -> APIResponse {
        var request = URLRequest(url: url)
        request.httpMethod = method
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        request.setValue("application/json", forHTTPHeaderField: "Accept")
        request.setValue("4.0", forHTTPHeaderField: "OData-Version")
        request.setValue("4.0", forHTTPHeaderField: "OData-MaxVersion")
        if let body {
            request.httpBody = body
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
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
            throw ServiceErrorFactory.unavailable("Cannot reach the Web API at \(url.absoluteString): \(reason)")
        }
        let fields = http.allHeaderFields.map { ("\($0.key)", "\($0.value)") }
        return APIResponse(status: http.statusCode, headers: fields, body: outcome.data ?? Data())
    }
}
