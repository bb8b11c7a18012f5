import Foundation
import Yams

/// A jobs file (YAML): `defaults` for every job, then a list of `jobs`.
///
/// Relative paths (script, file target, rejects, module paths) are kept as written and
/// resolved against `directory`, the jobs file's directory.
public struct JobsFile: Sendable {
    public var jobs: [JobDefinition]
    /// The directory of the jobs file; runs start there.
    public var directory: String
    /// The file as named on the command line.
    public var path: String

    /// Reads and validates a jobs file.
    /// - Throws: `JobsFileError` naming the file, the job and the problem.
    public static func load(path: String) throws -> JobsFile {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw JobsFileError(file: path, job: nil, message: "cannot read the file: \(error.localizedDescription)")
        }
        let directory = URL(fileURLWithPath: path).standardizedFileURL.deletingLastPathComponent().path
        return try parse(text, path: path, directory: directory)
    }

    /// Parses jobs file text.
    /// - Throws: `JobsFileError`.
    public static func parse(_ text: String, path: String, directory: String) throws -> JobsFile {
        let document: Any?
        do { document = try Yams.load(yaml: text) } catch {
            throw JobsFileError(file: path, job: nil, message: "not valid YAML: \(error) (quote cron expressions: schedule: \"*/15 * * * *\")")
        }
        do {
            let root = try YAMLMap(document, context: "the file")
            try root.allowOnly(["defaults", "jobs"])
            let defaults = try root.map("defaults")
            try defaults?.allowOnly(JobParser.defaultKeys)
            guard let jobList = root.values["jobs"] as? [Any], !jobList.isEmpty else {
                throw JobsFileError(file: path, job: nil, message: "'jobs' must be a non-empty list of jobs")
            }
            var jobs: [JobDefinition] = []
            for (index, item) in jobList.enumerated() {
                let job = try JobParser(file: path, index: index, item: item, defaults: defaults).parse()
                if jobs.contains(where: { $0.name == job.name }) {
                    throw JobsFileError(file: path, job: job.name, message: "the name is used by another job")
                }
                jobs.append(job)
            }
            return JobsFile(jobs: jobs, directory: directory, path: path)
        } catch let error as YAMLMap.Problem {
            throw JobsFileError(file: path, job: nil, message: error.message)
        }
    }

    /// A path from the file, made absolute against the file's directory.
    public func resolve(_ path: String) -> String {
        path.hasPrefix("/") ? path : URL(fileURLWithPath: directory).appendingPathComponent(path).standardizedFileURL.path
    }
}

/// A jobs file problem: `FILE: job 'NAME': message`.
public struct JobsFileError: Error, CustomStringConvertible, Sendable {
    public let file: String
    public let job: String?
    public let message: String

    public var description: String { "\(file): " + (job.map { "job '\($0)': " } ?? "") + message }
}

/// A YAML mapping with typed reads that name the key in their errors.
struct YAMLMap {
    struct Problem: Error { let message: String }

    let values: [String: Any]
    let context: String

    init(_ value: Any?, context: String) throws {
        guard let dictionary = value as? [String: Any] else { throw Problem(message: "\(context) must be a mapping of keys to values") }
        values = dictionary
        self.context = context
    }

    func allowOnly(_ keys: [String]) throws {
        if let unknown = values.keys.sorted().first(where: { !keys.contains($0) }) {
            throw Problem(message: "unknown key '\(unknown)' in \(context) (known: \(keys.joined(separator: ", ")))")
        }
    }

    func map(_ key: String) throws -> YAMLMap? {
        guard let value = values[key] else { return nil }
        return try YAMLMap(value, context: "'\(key)'")
    }

    func string(_ key: String) throws -> String? {
        guard let value = values[key] else { return nil }
        switch value {
        case let text as String: return text
        case let number as Int: return String(number)
        case let number as Double: return String(number)
        case let flag as Bool: return flag ? "true" : "false"
        default: throw Problem(message: "'\(key)' in \(context) must be a text value")
        }
    }

    func integer(_ key: String, in range: ClosedRange<Int>) throws -> Int? {
        guard let value = values[key] else { return nil }
        guard let number = value as? Int, range.contains(number) else {
            throw Problem(message: "'\(key)' in \(context) must be a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return number
    }

    func seconds(_ key: String, in range: ClosedRange<Double>) throws -> Double? {
        guard let value = values[key] else { return nil }
        let number = (value as? Int).map(Double.init) ?? (value as? Double)
        guard let number, range.contains(number) else {
            throw Problem(message: "'\(key)' in \(context) must be a number of seconds from \(Int(range.lowerBound)) to \(Int(range.upperBound))")
        }
        return number
    }

    func bool(_ key: String) throws -> Bool? {
        guard let value = values[key] else { return nil }
        guard let flag = value as? Bool else { throw Problem(message: "'\(key)' in \(context) must be true or false") }
        return flag
    }

    func strings(_ key: String) throws -> [String]? {
        guard let value = values[key] else { return nil }
        guard let list = value as? [Any] else { throw Problem(message: "'\(key)' in \(context) must be a list") }
        return try list.map { item in
            let wrapped = YAMLMap(values: ["item": item], context: "'\(key)'")
            return try wrapped.string("item") ?? ""
        }
    }

    private init(values: [String: Any], context: String) {
        self.values = values
        self.context = context
    }
}
