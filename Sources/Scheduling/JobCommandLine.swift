import Foundation

/// The `cdsync run` command line of a job, the same for the scheduler and systemd units.
public enum JobCommandLine {
    /// The local state store of a jobs file's URL-target jobs (change tokens, run history,
    /// locks): `.cdsync-state.db` in the jobs file's directory.
    public static let stateFileName = ".cdsync-state.db"

    /// The store a job runs against: its target (resolved against the jobs file), else `defaultTarget`.
    public static func target(of job: JobDefinition, in file: JobsFile, defaultTarget: String) -> String {
        switch job.target {
        case .file(let path): file.resolve(path)
        case .url(let url): url
        case nil: defaultTarget
        }
    }

    /// The local store that holds a job's run history, change tokens and locks: the target
    /// file, or for a URL target the jobs file's state store.
    public static func localStore(of job: JobDefinition, in file: JobsFile, defaultTarget: String) -> String {
        if case .url? = job.target { return statePath(in: file) }
        return target(of: job, in: file, defaultTarget: defaultTarget)
    }

    /// The state store of a jobs file's URL-target jobs.
    public static func statePath(in file: JobsFile) -> String { file.resolve(stateFileName) }

    /// `run SCRIPT --lock NAME --db TARGET [options] [--json --quiet] [-- ARGS]` with paths made
    /// absolute; a URL target runs as `--url URL --db STATE`, its token read by `cdsync run`
    /// from `$CDSYNC_TOKEN` (the job's environment), never put on the command line.
    public static func runArguments(for job: JobDefinition, in file: JobsFile, defaultTarget: String, json: Bool) -> [String] {
        var options = job.options
        options.rejects = options.rejects.map(file.resolve)
        options.modulePaths = options.modulePaths.map(file.resolve)
        var arguments = ["run", file.resolve(job.script), "--lock", job.name]
        if case .url(let url)? = job.target { arguments += ["--url", url] }
        arguments += ["--db", localStore(of: job, in: file, defaultTarget: defaultTarget)]
        arguments += options.commandLineArguments
        if json { arguments += ["--json", "--quiet"] }
        if !job.arguments.isEmpty { arguments += ["--"] + job.arguments }
        return arguments
    }
}
