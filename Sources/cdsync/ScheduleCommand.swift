import ArgumentParser
import EntityStore
import Foundation
import Scheduling

/// `cdsync schedule JOBS_FILE`: the foreground scheduler, `--check` and `--print-systemd`.
struct ScheduleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schedule",
        abstract: "Run the jobs of a jobs file at their times (foreground), check the file, or print systemd units.",
        discussion: """
            Each run is `cdsync run SCRIPT --lock JOB --db TARGET --json ...` (a URL target: `--url URL --db \
            <jobs file dir>/.cdsync-state.db`, token from $CDSYNC_TOKEN); every decision is logged as a JSON line \
            on stdout. SIGTERM/SIGINT: no new runs start, running ones stop after their in-flight batch, then exit 0. \
            Exit codes: 0 ok, 64 unreadable or invalid jobs file, a job's script cannot be read, or the --cdsync \
            binary cannot be started.
            """)

    @OptionGroup var store: StoreOptions
    @Argument(help: "The jobs file (YAML).") var jobsFile: String
    @Flag(help: "Validate the file and print each job's next five run times.") var check = false
    @Flag(help: "Print a systemd .service and .timer per job that run it through `cdsync run --lock`.") var printSystemd = false
    @Option(help: "With --print-systemd: write the unit files into this directory instead of printing them.") var systemdDirectory: String?
    @Option(help: "The cdsync binary that runs and systemd units use (default: this one).") var cdsync: String?

    func validate() throws {
        if systemdDirectory != nil && !printSystemd {
            throw ValidationError("--systemd-directory only goes with --print-systemd")
        }
        if check && printSystemd { throw ValidationError("give --check or --print-systemd, not both") }
    }

    func run() throws {
        let file: JobsFile
        do { file = try JobsFile.load(path: jobsFile) } catch {
            ErrorReport.writeStandardError("error: \(error)")
            throw ExitCode.usage
        }
        let defaultTarget = URL(fileURLWithPath: store.path).standardizedFileURL.path
        let executable = cdsync ?? Self.currentExecutable()
        if cdsync != nil, let problem = Self.problem(withExecutable: executable) {
            // a scheduler would start and then fail every run at its time; units may be for
            // another machine, so for them it is only a warning
            guard printSystemd else {
                ErrorReport.writeStandardError("error: --cdsync \(executable) \(problem)")
                throw ExitCode.usage
            }
            ErrorReport.writeStandardError("warning: --cdsync \(executable) \(problem) on this machine")
        }
        if check { return try ScheduleCheck.print(file, defaultTarget: defaultTarget) }
        if printSystemd { return try printUnits(file, executable: executable, defaultTarget: defaultTarget) }
        try ScheduleCheck.requireReadableScripts(file)
        let launcher = ChildRunLauncher(executable: executable, file: file, defaultTarget: defaultTarget)
        let scheduler = JobScheduler(jobs: file.jobs, clock: SystemClock(), launcher: launcher,
                                     lastStarts: Self.lastStarts(file, defaultTarget: defaultTarget), log: JSONLineLog.write)
        let signals = SignalWatch { scheduler.stop(reason: $0) }
        scheduler.run()
        withExtendedLifetime(signals) {}
    }

    private func printUnits(_ file: JobsFile, executable: String, defaultTarget: String) throws {
        let units: [SystemdUnits.Unit]
        do { units = try SystemdUnits.units(for: file, executable: executable, defaultTarget: defaultTarget) } catch {
            ErrorReport.writeStandardError("error: \(file.path): \(error)")
            throw ExitCode.usage
        }
        guard let directory = systemdDirectory else {
            print(units.map { "# ---- \($0.name) ----\n\($0.text)" }.joined(separator: "\n"), terminator: "")
            return
        }
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            for unit in units {
                try unit.text.write(toFile: (directory as NSString).appendingPathComponent(unit.name), atomically: true, encoding: .utf8)
                print("wrote \((directory as NSString).appendingPathComponent(unit.name))")
            }
        } catch {
            ErrorReport.writeStandardError("error: cannot write the units into \(directory): \(error.localizedDescription)")
            throw ExitCode.scriptFailed
        }
    }

    /// The latest run start of each job, from the history of each local store that exists
    /// (the target file, or the state store of URL targets).
    static func lastStarts(_ file: JobsFile, defaultTarget: String) -> [String: Date] {
        var result: [String: Date] = [:]
        let targets = Set(file.jobs.map { JobCommandLine.localStore(of: $0, in: file, defaultTarget: defaultTarget) })
        for target in targets where FileManager.default.fileExists(atPath: target) {
            guard let starts = try? EntityStore(path: target).lastRunStarts() else { continue }
            result.merge(starts) { max($0, $1) }
        }
        return result
    }

    /// Why `path` cannot be started as a program here, or nil when it can.
    static func problem(withExecutable path: String) -> String? {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return "does not exist" }
        if isDirectory.boolValue { return "is a directory" }
        guard access(path, X_OK) == 0 else { return "is not executable" }
        return nil
    }

    /// This process's binary (Linux: /proc/self/exe).
    static func currentExecutable() -> String {
        if let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return path }
        return URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL.path
    }
}
