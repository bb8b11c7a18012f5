import Foundation

/// Where a job's data lives.
public enum JobTarget: Sendable, Equatable {
    /// An embedded store file.
    case file(String)
    /// A remote service (`http://` or `https://`); `cdsync run` does not support it yet.
    case url(String)

    /// The value passed to `cdsync run --db`.
    public var argument: String {
        switch self {
        case .file(let path): path
        case .url(let url): url
        }
    }
}

/// The `cdsync run` options a job may set; nil = run's default.
public struct JobRunOptions: Sendable, Equatable {
    public var batchSize: Int?
    public var onError: String?
    public var rejects: String?
    public var maxMemory: Int?
    public var timeout: Double?
    public var atomic = false
    public var modulePaths: [String] = []

    public init() {}

    /// The options as `cdsync run` arguments.
    public var commandLineArguments: [String] {
        var arguments: [String] = []
        if let batchSize { arguments += ["--batch-size", String(batchSize)] }
        if let onError { arguments += ["--on-error", onError] }
        if let rejects { arguments += ["--rejects", rejects] }
        if let maxMemory { arguments += ["--max-memory", String(maxMemory)] }
        if let timeout { arguments += ["--timeout", timeout == timeout.rounded() ? String(Int(timeout)) : String(timeout)] }
        if atomic { arguments.append("--atomic") }
        for path in modulePaths { arguments += ["--module-path", path] }
        return arguments
    }
}
