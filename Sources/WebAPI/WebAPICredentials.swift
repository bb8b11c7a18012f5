import Foundation

/// How the client proves who it is: a fixed bearer token, or an OAuth2 client-credentials
/// grant against a token endpoint (the token is fetched when first needed and refreshed
/// when it expires or the server answers 401).
public enum WebAPICredentials: Sendable {
    /// A bearer token sent as is (`--token`, `$CDSYNC_TOKEN`).
    case bearer(String)
    /// An OAuth2 client-credentials grant.
    case clientCredentials(ClientCredentials)
}

/// The settings of an OAuth2 client-credentials grant.
public struct ClientCredentials: Sendable {
    /// The token endpoint (`https://login.microsoftonline.com/<tenant>/oauth2/v2.0/token`).
    public var tokenURL: URL
    /// The application (client) id.
    public var clientID: String
    /// The client secret.
    public var clientSecret: String
    /// The scope asked for (`https://org.crm.dynamics.com/.default`).
    public var scope: String

    /// Creates grant settings.
    public init(tokenURL: URL, clientID: String, clientSecret: String, scope: String) {
        self.tokenURL = tokenURL
        self.clientID = clientID
        self.clientSecret = clientSecret
        self.scope = scope
    }

    /// The default scope for an API root: its origin with `/.default`.
    public static func defaultScope(for root: URL) -> String {
        var components = URLComponents()
        components.scheme = root.scheme
        components.host = root.host
        components.port = root.port
        return (components.url?.absoluteString ?? "") + "/.default"
    }
}

/// How long the client waits on `429`/`503` before it gives up: one budget of waiting for
/// the whole run, spent on `Retry-After` seconds.
public struct RetryBudget: Sendable {
    /// Total seconds of waiting allowed across all retries of a client.
    public var totalSeconds: Double
    /// Retries of a single request at most (a guard against `Retry-After: 0` loops).
    public var maxRetriesPerRequest: Int

    /// Creates a budget.
    public init(totalSeconds: Double = 300, maxRetriesPerRequest: Int = 10) {
        self.totalSeconds = totalSeconds
        self.maxRetriesPerRequest = maxRetriesPerRequest
    }
}
