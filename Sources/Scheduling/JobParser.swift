import Foundation

/// Reads one job of a jobs file, with the file's `defaults` under it.
struct JobParser {
    static let defaultKeys = ["time_zone", "target", "options", "environment", "retry", "missed"]
    static let jobKeys = ["name", "script", "schedule", "arguments"] + defaultKeys
    static let optionKeys = ["batch_size", "on_error", "rejects", "max_memory", "timeout", "atomic", "module_paths"]

    let file: String
    let index: Int
    let item: Any
    let defaults: YAMLMap?

    func parse() throws -> JobDefinition {
        let job: YAMLMap
        do { job = try YAMLMap(item, context: "job \(index + 1)") } catch let problem as YAMLMap.Problem {
            throw JobsFileError(file: file, job: nil, message: problem.message)
        }
        let name = (try? job.string("name")) ?? nil
        guard let name, JobDefinition.isValidName(name) else {
            throw JobsFileError(file: file, job: name, message: "job \(index + 1) needs a 'name' of 1-64 letters, digits, '.', '_' or '-'")
        }
        do {
            return try parse(job, name: name)
        } catch let problem as YAMLMap.Problem {
            throw JobsFileError(file: file, job: name, message: problem.message)
        } catch let error as CronError {
            throw JobsFileError(file: file, job: name, message: "schedule: \(error.message)")
        }
    }

    /// A key of the job, else of `defaults`.
    private func layered<T>(_ job: YAMLMap, _ read: (YAMLMap) throws -> T?) throws -> T? {
        if let value = try read(job) { return value }
        return try defaults.flatMap(read)
    }

    private func parse(_ job: YAMLMap, name: String) throws -> JobDefinition {
        try job.allowOnly(Self.jobKeys)
        guard let script = try job.string("script"), !script.isEmpty else { throw YAMLMap.Problem(message: "'script' is missing") }
        guard let scheduleText = try job.string("schedule") else { throw YAMLMap.Problem(message: "'schedule' is missing") }
        let zoneName = try layered(job) { try $0.string("time_zone") } ?? "UTC"
        guard let zone = TimeZone(identifier: zoneName) else {
            throw YAMLMap.Problem(message: "unknown time zone '\(zoneName)' (use an IANA name such as Europe/Berlin; is tzdata installed?)")
        }
        let schedule = try CronExpression(scheduleText)
        var definition = JobDefinition(name: name, script: script, schedule: schedule, timeZone: zone)
        guard definition.nextFire(after: Date()) != nil else {
            throw YAMLMap.Problem(message: "schedule '\(scheduleText)' never fires")
        }
        definition.target = try layered(job) { try $0.string("target") }.map(Self.target)
        definition.arguments = try job.strings("arguments") ?? []
        definition.options = try layered(job) { try $0.map("options") }.map(Self.options) ?? JobRunOptions()
        definition.environment = try Self.environment(try defaults?.map("environment"), try job.map("environment"))
        definition.retry = try layered(job) { try $0.map("retry") }.map(Self.retry) ?? RetryPolicy()
        if let missed = try layered(job, { try $0.string("missed") }) {
            guard let policy = MissedRunPolicy(rawValue: missed) else {
                throw YAMLMap.Problem(message: "'missed' must be skip or run_once")
            }
            definition.missed = policy
        }
        return definition
    }

    private static func target(_ text: String) throws -> JobTarget {
        // an empty target would become the jobs file's directory, and each run fail as temporary
        guard !text.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw YAMLMap.Problem(message: "target is empty: give a store file or a Web API URL (or leave target out)")
        }
        let lower = text.lowercased()
        if lower.hasPrefix("http://") || lower.hasPrefix("https://") {
            guard let url = URL(string: text), url.host != nil else { throw YAMLMap.Problem(message: "target '\(text)' is not a valid URL") }
            return .url(text)
        }
        if lower.contains("://") { throw YAMLMap.Problem(message: "target '\(text)': only http:// and https:// URLs or store file paths") }
        return .file(text)
    }

    private static func options(_ map: YAMLMap) throws -> JobRunOptions {
        try map.allowOnly(optionKeys)
        var options = JobRunOptions()
        options.batchSize = try map.integer("batch_size", in: 1...1000)
        if let onError = try map.string("on_error") {
            guard ["stop", "continue"].contains(onError) else { throw YAMLMap.Problem(message: "'on_error' must be stop or continue") }
            options.onError = onError
        }
        options.rejects = try map.string("rejects")
        options.maxMemory = try map.integer("max_memory", in: 0...1_048_576)
        options.timeout = try map.seconds("timeout", in: 0...31_536_000)
        options.atomic = try map.bool("atomic") ?? false
        options.modulePaths = try map.strings("module_paths") ?? []
        return options
    }

    private static func environment(_ defaults: YAMLMap?, _ job: YAMLMap?) throws -> [(name: String, value: String)] {
        var merged: [String: String] = [:]
        for map in [defaults, job].compactMap({ $0 }) {
            for name in map.values.keys {
                guard name.range(of: "^[A-Za-z_][A-Za-z0-9_]*$", options: .regularExpression) != nil else {
                    throw YAMLMap.Problem(message: "'\(name)' is not a valid environment variable name")
                }
                merged[name] = try map.string(name)
            }
        }
        return merged.keys.sorted().map { ($0, merged[$0]!) }
    }

    private static func retry(_ map: YAMLMap) throws -> RetryPolicy {
        try map.allowOnly(["attempts", "backoff", "max_backoff"])
        var policy = RetryPolicy()
        policy.attempts = try map.integer("attempts", in: 1...100) ?? 1
        policy.backoff = try map.seconds("backoff", in: 1...86_400) ?? 60
        policy.maxBackoff = try map.seconds("max_backoff", in: 1...86_400) ?? max(3600, policy.backoff)
        guard policy.maxBackoff >= policy.backoff else { throw YAMLMap.Problem(message: "'max_backoff' must be at least 'backoff'") }
        return policy
    }
}
