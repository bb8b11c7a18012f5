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
            Each run is `cdsync run SCRIPT --lock JOB --db TARGET --json ...`; every decision is logged as a JSON line \
            on stdout. SIGTERM/SIGINT: no new runs start, running ones stop after their in-flight batch, then exit 0. \
            Exit codes: 0 ok, 64 unreadable or invalid jobs file.
            """)

    @OptionGroup var store: StoreOptions
    @Argument(help: "The jobs file (YAML).") var jobsFile: String
    @Flag(help: "Validate the file and print each job's next five run times.") var check = false
    @Flag(help: "Print a systemd .service and .timer per job that run it through `cdsync run --lock`.") var printSystemd = false
    @Option(help: "With --print-systemd: write the unit files into this directory instead of printing them.") var systemdDirectory: String?
    @Option(help: "The cdsync binary that runs and systemd units use (default: this one).") var cdsync: String?

    func run() throws {
        let file: JobsFile
        do { file = try JobsFile.load(path: jobsFile) } catch {
            ErrorReport.writeStandardError("error: \(error)")
            throw ExitCode.usage
        }
        let defaultTarget = URL(fileURLWithPath: store.path).standardizedFileURL.path
        let executable = cdsync ?? Self.currentExecutable()
        if check { return try ScheduleCheck.print(file, defaultTarget: defaultTarget) }
        if printSystemd { return try printUnits(file, executable: executable, defaultTarget: defaultTarget) }
        let launcher = ChildRunLauncher(executable: executable, file: file, defaultTarget: defaultTarget)
        let scheduler = JobScheduler(jobs: file.jobs, clock: SystemClock(), launcher: launcher,
                                     lastStarts: Self.lastStarts(file, defaultTarget: defaultTarget), log: JSONLineLog.write)
        let signals = SignalWatch { scheduler.stop(reason: $0) }
        scheduler.run()
        withExtendedLifetime(signals) {}
    }

    private func printUnits(_ file: JobsFile, executable: String, defaultTarget: String) throws {
        let units = SystemdUnits.units(for: file, executable: executable, defaultTarget: defaultTarget)
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

    /// The latest run start of each job, from the history of each embedded store that exists.
    static func lastStarts(_ file: JobsFile, defaultTarget: String) -> [String: Date] {
        var result: [String: Date] = [:]
        let targets = Set(file.jobs.map { JobCommandLine.target(of: $0, in: file, defaultTarget: defaultTarget) })
        for target in targets where !RunHistoryRecorder.isRemoteTarget(target) && FileManager.default.fileExists(atPath: target) {
            guard let starts = try? EntityStore(path: target).lastRunStarts() else { continue }
            result.merge(starts) { max($0, $1) }
        }
        return result
    }

    /// This process's binary (Linux: /proc/self/exe).
    static func currentExecutable() -> String {
        if let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return path }
        return URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL.path
    }
}

/// `cdsync schedule --check`: each job and its next five run times.
enum ScheduleCheck {
    static func print(_ file: JobsFile, defaultTarget: String) throws {
        var problems: [String] = []
        let now = Date()
        for job in file.jobs {
            let script = file.resolve(job.script)
            if !FileManager.default.isReadableFile(atPath: script) { problems.append("job '\(job.name)': cannot read the script \(script)") }
            let target = JobCommandLine.target(of: job, in: file, defaultTarget: defaultTarget)
            Swift.print("job \(job.name)")
            Swift.print("  script    \(script)")
            Swift.print("  target    \(target)" + (RunHistoryRecorder.isRemoteTarget(target) ? "  (remote: not supported by cdsync run yet)" : ""))
            Swift.print("  schedule  \(job.schedule.text)  (\(job.timeZone.identifier))")
            Swift.print("  retry     \(job.retry.attempts == 1 ? "none" : "\(job.retry.attempts) attempts on exit 75, first wait \(Int(job.retry.backoff)) s, doubling up to \(Int(job.retry.maxBackoff)) s")")
            Swift.print("  missed    \(job.missed.rawValue)")
            Swift.print("  next runs")
            for fire in job.schedule.nextFires(after: now, in: job.timeZone, count: 5) {
                Swift.print("    \(localText(fire, job.timeZone))  (\(SchedulerEvent.timestamp(fire)))")
            }
        }
        guard problems.isEmpty else {
            problems.forEach { ErrorReport.writeStandardError("\(file.path): error: \($0)") }
            throw ExitCode.usage
        }
        Swift.print("\(file.path): \(file.jobs.count) job\(file.jobs.count == 1 ? "" : "s") OK")
    }

    /// `2026-03-29 03:00 +02:00 Sun` in the job's zone.
    static func localText(_ date: Date, _ zone: TimeZone) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = zone
        formatter.dateFormat = "yyyy-MM-dd HH:mm xxx EEE"
        return formatter.string(from: date)
    }
}

/// The scheduler's log: one JSON line per event on stdout, written at once.
enum JSONLineLog {
    private static let lock = NSLock()

    @Sendable static func write(_ line: String) {
        lock.withLock { FileHandle.standardOutput.write(Data((line + "\n").utf8)) }
    }
}

/// Calls back once per SIGINT/SIGTERM (the signals' default action is turned off).
final class SignalWatch: @unchecked Sendable {
    private var sources: [DispatchSourceSignal] = []

    init(_ handler: @escaping @Sendable (String) -> Void) {
        for (number, name) in [(SIGINT, "SIGINT"), (SIGTERM, "SIGTERM")] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { handler(name) }
            source.resume()
            sources.append(source)
        }
    }
}
