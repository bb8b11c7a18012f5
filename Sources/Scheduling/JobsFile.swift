import Foundation
import YAMLLimits
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
            // (Foundation's own text for these is "The operation could not be completed")
            var isDirectory: ObjCBool = false
            let reason = !FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) ? "no such file"
                : isDirectory.boolValue ? "it is a directory"
                : !FileManager.default.isReadableFile(atPath: path) ? "permission denied"
                : "it is not UTF-8 text"
            throw JobsFileError(file: path, job: nil, message: "cannot read the file: \(reason)")
        }
        let directory = URL(fileURLWithPath: path).standardizedFileURL.deletingLastPathComponent().path
        return try parse(text, path: path, directory: directory)
    }

    /// Parses jobs file text.
    /// - Throws: `JobsFileError`.
    public static func parse(_ text: String, path: String, directory: String) throws -> JobsFile {
        if let violation = YAMLLimits.violation(in: text) {
            throw JobsFileError(file: path, job: nil, message: violation)
        }
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
                // ignoring case: the names become lock and unit file names, which a case-blind
                // file system would take for one
                if jobs.contains(where: { $0.name.lowercased() == job.name.lowercased() }) {
                    throw JobsFileError(file: path, job: job.name, message: "the name is used by another job (names are compared ignoring case)")
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
