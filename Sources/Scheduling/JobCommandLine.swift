import Foundation

/// The `cdsync run` command line of a job, the same for the scheduler and systemd units.
public enum JobCommandLine {
    /// The store a job runs against: its target (resolved against the jobs file), else `defaultTarget`.
    public static func target(of job: JobDefinition, in file: JobsFile, defaultTarget: String) -> String {
        switch job.target {
        case .file(let path): file.resolve(path)
        case .url(let url): url
        case nil: defaultTarget
        }
    }

    /// `run SCRIPT --lock NAME --db TARGET [options] [--json --quiet] [-- ARGS]` with paths made absolute.
    public static func runArguments(for job: JobDefinition, in file: JobsFile, defaultTarget: String, json: Bool) -> [String] {
        var options = job.options
        options.rejects = options.rejects.map(file.resolve)
        options.modulePaths = options.modulePaths.map(file.resolve)
        var arguments = ["run", file.resolve(job.script), "--lock", job.name, "--db", target(of: job, in: file, defaultTarget: defaultTarget)]
        arguments += options.commandLineArguments
        if json { arguments += ["--json", "--quiet"] }
        if !job.arguments.isEmpty { arguments += ["--"] + job.arguments }
        return arguments
    }
}
