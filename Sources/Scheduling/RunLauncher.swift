import Foundation

/// Starts runs; the real one starts `cdsync run --lock NAME … --json` child processes.
public protocol RunLauncher: AnyObject, Sendable {
    /// Starts a run and calls `completion` once, from any thread, when it has ended.
    func start(_ job: JobDefinition, request: RunRequest, completion: @escaping @Sendable (RunResult) -> Void)
    /// Asks every running run to stop after its in-flight batch (SIGTERM).
    func interruptAll()
}

/// How a run ended.
public struct RunResult: Sendable, Equatable {
    public var exitCode: Int32
    /// The run's `--json` report object, when it printed one.
    public var reportJSON: String?
    /// The outcome named by the report, or derived from the exit code.
    public var outcome: String

    public init(exitCode: Int32, reportJSON: String? = nil, outcome: String? = nil) {
        self.exitCode = exitCode
        self.reportJSON = reportJSON
        self.outcome = outcome ?? Self.outcome(forExitCode: exitCode)
    }

    /// The outcome of an exit code when the run printed no report.
    public static func outcome(forExitCode code: Int32) -> String {
        switch code {
        case 0: "succeeded"
        case 65: "rows_rejected"
        case 64: "usage_error"
        case lockedExitCode: "locked"
        case temporaryFailureExitCode: "temporary_failure"
        case let code where code < 0: "killed"
        default: "failed"
        }
    }
}
