import Foundation
import Scheduling

/// Runs each job as a child process `cdsync run SCRIPT --lock JOB ... --json --quiet`, in
/// the jobs file's directory with the job's environment, and reads its JSON report.
final class ChildRunLauncher: RunLauncher, @unchecked Sendable {
    private let executable: String
    private let file: JobsFile
    private let defaultTarget: String
    private let lock = NSLock()
    private var running: [Int32: Process] = [:]
    /// Set by `interruptAll`; a run that starts afterwards is interrupted at once.
    private var interrupting = false

    init(executable: String, file: JobsFile, defaultTarget: String) {
        self.executable = executable
        self.file = file
        self.defaultTarget = defaultTarget
    }

    func start(_ job: JobDefinition, request: RunRequest, completion: @escaping @Sendable (RunResult) -> Void) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = JobCommandLine.runArguments(for: job, in: file, defaultTarget: defaultTarget, json: true)
        process.currentDirectoryURL = URL(fileURLWithPath: file.directory)
        var environment = ProcessInfo.processInfo.environment
        for variable in job.environment { environment[variable.name] = variable.value }
        process.environment = environment
        let output = Pipe()
        process.standardOutput = output
        // a thread of its own: it blocks until the child exits, which may take hours, and a
        // global queue's few threads are for short work (signal handling among it)
        Thread { [self] in
            do {
                try lock.withLock {
                    try process.run()
                    running[process.processIdentifier] = process
                    if interrupting { kill(process.processIdentifier, SIGTERM) }
                }
            } catch {
                JSONLineLog.write(SchedulerEvent("launch_failed").with("job", job.name).with("error", "\(error)").line(at: Date()))
                completion(RunResult(exitCode: 1, outcome: "launch_failed"))
                return
            }
            let data = output.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            lock.withLock { running[process.processIdentifier] = nil }
            completion(Self.result(process, output: String(decoding: data, as: UTF8.self), job: job.name))
        }.start()
    }

    func interruptAll() {
        lock.withLock {
            interrupting = true
            for pid in running.keys { kill(pid, SIGTERM) }
        }
    }

    /// The exit code (negative: killed by that signal) and the report line; other output
    /// lines of the script go to stderr, prefixed with the job's name.
    private static func result(_ process: Process, output: String, job: String) -> RunResult {
        let code = process.terminationReason == .uncaughtSignal ? -process.terminationStatus : process.terminationStatus
        var report: String?
        var outcome: String?
        for line in output.split(separator: "\n").map(String.init) {
            if line.hasPrefix("{\"outcome\":"), let parsed = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] {
                report = line
                outcome = parsed["outcome"] as? String
            } else {
                FileHandle.standardError.write(Data("[\(job)] \(line)\n".utf8))
            }
        }
        return RunResult(exitCode: code, reportJSON: report, outcome: outcome)
    }
}
