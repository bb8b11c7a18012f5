import Foundation

/// A request budget per client over a sliding window (SPEC §6 rule 12): past it, 429 with
/// `Retry-After`. A `$batch` counts as one request.
public struct RequestLimit: Sendable, Equatable {
    /// Requests allowed per window.
    public var requests: Int
    /// The window, in seconds.
    public var windowSeconds: Int

    /// Creates a limit.
    public init(requests: Int, windowSeconds: Int) {
        self.requests = requests
        self.windowSeconds = windowSeconds
    }

    /// Parses `N/window`: `6000/300`, `3/10s`, `100/1m`.
    public init?(_ text: String) {
        let parts = text.split(separator: "/")
        guard parts.count == 2, let count = Int(parts[0]), count > 0 else { return nil }
        var window = String(parts[1])
        var scale = 1
        if window.hasSuffix("s") { window.removeLast() } else if window.hasSuffix("m") { window.removeLast(); scale = 60 }
        guard let seconds = Int(window), seconds > 0 else { return nil }
        self.init(requests: count, windowSeconds: seconds * scale)
    }
}

/// Counts requests per client in the current window.
final class RequestLimiter: @unchecked Sendable {
    private let limit: RequestLimit
    private let lock = NSLock()
    private var history: [String: [Date]] = [:]

    init(_ limit: RequestLimit) {
        self.limit = limit
    }

    /// Records a request; returns nil when it is allowed, else the seconds to wait.
    func admit(client: String, now: Date = Date()) -> Int? {
        lock.withLock {
            let windowStart = now.addingTimeInterval(-Double(limit.windowSeconds))
            var times = (history[client] ?? []).filter { $0 > windowStart }
            defer { history[client] = times }
            guard times.count >= limit.requests, let oldest = times.first else {
                times.append(now)
                return nil
            }
            return max(1, Int(oldest.timeIntervalSince(windowStart).rounded(.up)))
        }
    }

    /// The message of code `0x80072322`.
    var message: String {
        "Number of requests exceeded the limit of \(limit.requests) over time window of \(limit.windowSeconds) seconds."
    }
}
