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
            Swift.print("  schedule  \(job.schedule.text)  (\(job.timeZone.identifier))")
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

    /// Exits 64 with one line per job whose script cannot be read.
    static func requireReadableScripts(_ file: JobsFile) throws {
        let unreadable = file.jobs.filter { !FileManager.default.isReadableFile(atPath: file.resolve($0.script)) }
        guard !unreadable.isEmpty else { return }
        for job in unreadable {
            ErrorReport.writeStandardError("\(file.path): error: job '\(job.name)': cannot read the script \(file.resolve(job.script))")
        }
        throw ExitCode.usage
    }
}
