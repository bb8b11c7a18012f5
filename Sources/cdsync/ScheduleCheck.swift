import ArgumentParser
import Foundation
import Scheduling

/// `cdsync schedule --check`: each job and its next five run times.
enum ScheduleCheck {
    static func print(_ file: JobsFile, defaultTarget: String) throws {
        let now = Date()
        for job in file.jobs {
            let script = file.resolve(job.script)
            let target = JobCommandLine.target(of: job, in: file, defaultTarget: defaultTarget)
            Swift.print("job \(job.name)")
            Swift.print("  script    \(script)")
            Swift.print("  target    \(target)")
            if case .url? = job.target { Swift.print("  state     \(JobCommandLine.statePath(in: file))") }
            // (Foundation names the UTC zone "GMT"; the docs and the timer units say UTC)
            let zone = job.timeZone.identifier == "GMT" ? "UTC" : job.timeZone.identifier
            Swift.print("  schedule  \(job.schedule.text)  (\(zone))")
            Swift.print("  retry     \(job.retry.attempts == 1 ? "none" : "\(job.retry.attempts) attempts on exit 75, first wait \(Int(job.retry.backoff)) s, doubling up to \(Int(job.retry.maxBackoff)) s")")
            Swift.print("  missed    \(job.missed.rawValue)")
            Swift.print("  next runs")
            for fire in job.schedule.nextFires(after: now, in: job.timeZone, count: 5) {
                Swift.print("    \(localText(fire, job.timeZone))  (\(SchedulerEvent.timestamp(fire)))")
            }
        }
        try requireReadableScripts(file)
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

    /// Exits 64 with one line per job whose script cannot be read: missing, unreadable, a
    /// directory, or not a regular file (a device, a pipe: nothing a scheduled run can read
    /// the same way twice).
    static func requireReadableScripts(_ file: JobsFile) throws {
        var failed = false
        for job in file.jobs {
            let path = file.resolve(job.script)
            guard let reason = ScriptFile.problem(path, regularOnly: true) else { continue }
            ErrorReport.writeStandardError("\(file.path): error: job '\(job.name)': cannot read the script \(path): \(reason)")
            failed = true
        }
        if failed { throw ExitCode.usage }
    }
}

/// Why a script file cannot be run, if it cannot.
enum ScriptFile {
    /// Nil when `path` can be read as a script; else the reason. `regularOnly` also refuses
    /// devices and pipes (which `cdsync run /dev/stdin` may read once, a schedule cannot).
    static func problem(_ path: String, regularOnly: Bool = false) -> String? {
        var info = stat()
        guard stat(path, &info) == 0 else { return errno == EACCES ? "permission denied" : "no such file" }
        if info.st_mode & S_IFMT == S_IFDIR { return "it is a directory" }
        if regularOnly && info.st_mode & S_IFMT != S_IFREG { return "it is not a regular file" }
        guard FileManager.default.isReadableFile(atPath: path) else { return "permission denied" }
        return nil
    }
}
