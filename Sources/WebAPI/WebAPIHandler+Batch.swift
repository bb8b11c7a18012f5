import DataFiles
import EntityModel
import Foundation

extension WebAPIHandler {
    /// One entry of a `$batch`: a request, or a change set of requests.
    private enum BatchEntry {
        case single(APIRequest)
        case changeSet([APIRequest])
    }

    /// `POST $batch`: parts run in order; change sets are atomic and may use Content-ID references;
    /// the first failure stops the batch unless `Prefer: odata.continue-on-error`.
    func batch(_ call: Call) throws -> APIResponse {
        guard !call.insideBatch else { throw ServiceError(.payloadError, "Batches cannot be nested.") }
        let contentType = call.request.header("content-type") ?? ""
        guard contentType.lowercased().hasPrefix("multipart/mixed"), let boundary = Multipart.boundary(contentType) else {
            throw ServiceError(.payloadError, "A $batch body must be multipart/mixed with a boundary.")
        }
        // read as text without repairing it: a part's JSON with bytes that are not UTF-8 is
        // refused as it is in a request of its own, not stored with replacement characters
        guard let text = String(validating: call.request.body, as: UTF8.self) else {
            throw ServiceError(.payloadError, "The $batch body is not valid UTF-8 text.")
        }
        // every request is introduced by a delimiter line ("--" at a line's start), and a change
        // set adds two more: far more of them than 1,000 requests need is refused before the
        // parts are parsed (a million tiny parts held the engine for seconds, for a 400)
        var delimiters = 0
        call.request.body.withUnsafeBytes { bytes in
            for index in 0..<max(bytes.count - 1, 0) where bytes[index] == UInt8(ascii: "-") && bytes[index + 1] == UInt8(ascii: "-")
                && (index == 0 || bytes[index - 1] == UInt8(ascii: "\n")) {
                delimiters += 1
            }
        }
        guard delimiters <= 3 * ServiceRequest.maxBatchSize + 2 else {
            throw ServiceError(.invalidArgument, "The batch holds more than \(ServiceRequest.maxBatchSize) requests; at most \(ServiceRequest.maxBatchSize) are allowed.",
                               details: ["MaxBatchSize": String(ServiceRequest.maxBatchSize)])
        }
        let entries = try Multipart.parse(text, boundary: boundary).map(entry)
        let total = entries.reduce(0) { count, entry in
            if case .changeSet(let requests) = entry { return count + requests.count }
            return count + 1
        }
        guard total <= ServiceRequest.maxBatchSize else {
            throw ServiceError(.invalidArgument, "The batch holds \(total) requests; at most \(ServiceRequest.maxBatchSize) are allowed.",
                               details: ["MaxBatchSize": String(ServiceRequest.maxBatchSize)])
        }
        let continueOnError = call.preferences.continueOnError
        let responseBoundary = "batchresponse_\(UUID().uuidString.lowercased())"
        var body = ""
        var status = 200
        for entry in entries {
            body += "--\(responseBoundary)\r\n"
            let failed: APIResponse?
            switch entry {
            case .single(let request):
                let response = handle(request, origin: call.origin, insideBatch: true)
                body += Multipart.render(response, contentID: request.header("content-id"))
                failed = response.status >= 400 ? response : nil
            case .changeSet(let requests):
                switch runChangeSet(requests, call) {
                case .success(let responses):
                    let setBoundary = "changesetresponse_\(UUID().uuidString.lowercased())"
                    body += "Content-Type: multipart/mixed; boundary=\(setBoundary)\r\n\r\n"
                    for (request, response) in responses {
                        body += "--\(setBoundary)\r\n" + Multipart.render(response, contentID: request.header("content-id"))
                    }
                    body += "--\(setBoundary)--\r\n"
                    failed = nil
                case .failure(let failure):
                    body += Multipart.render(failure.response, contentID: failure.contentID)
                    failed = failure.response
                }
            }
            if let failed, !continueOnError {
                status = failed.status
                break
            }
        }
        body += "--\(responseBoundary)--\r\n"
        return APIResponse(status: status, headers: [("Content-Type", "multipart/mixed; boundary=\(responseBoundary)"), ("OData-Version", "4.0")],
                           body: Data(body.utf8))
    }

    private func entry(_ part: Multipart.Part) throws -> BatchEntry {
        let contentType = part.headers["content-type"] ?? ""
        if contentType.lowercased().hasPrefix("multipart/mixed") {
            guard let boundary = Multipart.boundary(contentType) else {
                throw ServiceError(.payloadError, "A change set needs a boundary.")
            }
            return .changeSet(try Multipart.parse(part.content, boundary: boundary).map(Multipart.request))
        }
        return .single(try Multipart.request(part))
    }

    private struct ChangeSetFailure: Error {
        var response: APIResponse
        var contentID: String?
    }

    /// Runs a change set in one transaction of the service; any failure rolls all of it back.
    private func runChangeSet(_ requests: [APIRequest], _ call: Call) -> Result<[(APIRequest, APIResponse)], ChangeSetFailure> {
        guard let transactions = service as? any RunTransactionSupport else {
            return .failure(ChangeSetFailure(response: .error(ServiceError(.notImplemented,
                "This data service cannot hold a transaction, so change sets are not supported.")), contentID: nil))
        }
        var seenIDs = Set<String>()
        for request in requests {
            let contentID = request.header("content-id")
            if let contentID, !seenIDs.insert(contentID).inserted {
                // `$n` must name one request: a second one would silently take it over
                return .failure(ChangeSetFailure(response: .error(ServiceError(.invalidKey,
                    "The Content-ID '\(contentID)' is used by more than one request in the change set.")), contentID: contentID))
            }
            if request.method == "GET" {
                return .failure(ChangeSetFailure(response: .error(ServiceError(.invalidKey, "GET requests are not allowed inside a change set.")), contentID: contentID))
            }
            if contentID == nil {
                return .failure(ChangeSetFailure(response: .error(ServiceError(.invalidKey, "Content-ID header not present in a change set request.")), contentID: nil))
            }
        }
        do { try transactions.beginRunTransaction() } catch let error as ServiceError {
            return .failure(ChangeSetFailure(response: .error(error), contentID: nil))
        } catch {
            return .failure(ChangeSetFailure(response: .error(ServiceError(.internalError, "\(error)")), contentID: nil))
        }
        var contentIDs: [String: String] = [:]
        var responses: [(APIRequest, APIResponse)] = []
        for request in requests {
            let response = handle(request, origin: call.origin, insideBatch: true, contentIDs: contentIDs)
            if response.status >= 400 {
                try? transactions.endRunTransaction(commit: false)
                return .failure(ChangeSetFailure(response: response, contentID: request.header("content-id")))
            }
            if let contentID = request.header("content-id"), let location = response.header("OData-EntityId"),
               let range = location.range(of: ResourcePath.root + "/") {
                contentIDs["$\(contentID)"] = String(location[range.upperBound...])
            }
            responses.append((request, response))
        }
        do { try transactions.endRunTransaction(commit: true) } catch {
            let failure = (error as? ServiceError) ?? ServiceError(.internalError, "\(error)")
            return .failure(ChangeSetFailure(response: .error(failure), contentID: nil))
        }
        return .success(responses)
    }
}
