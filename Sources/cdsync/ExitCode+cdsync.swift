import ArgumentParser
import EntityModel
import Foundation

/// cdsync's exit codes (docs/cli.md).
extension ExitCode {
    /// The script or command failed.
    static let scriptFailed = ExitCode(1)
    /// The command line was wrong.
    static let usage = ExitCode(64)
    /// Some rows were rejected (bad data).
    static let dataRejected = ExitCode(65)
    /// Another run of the job holds its lock (`cdsync run --lock`); this run did not start.
    static let locked = ExitCode(73)
    /// A temporary failure: retrying later may work.
    static let temporaryFailure = ExitCode(75)
}

/// The one place errors are formatted for people: `path:line: error: message [code]`.
enum ErrorReport {
    /// Prints an error to stderr and returns the exit code it maps to.
    static func print(_ error: Error, location: String? = nil) -> ExitCode {
        let prefix = location.map { "\($0): " } ?? ""
        if let error = error as? ServiceError {
            var line = "\(prefix)error: \(error.message) [\(error.code.value)]"
            if let key = error.key, !error.message.contains(key) { line += " (key: \(key))" }
            writeStandardError(line)
            return error.code == .storeUnavailable ? .temporaryFailure : .scriptFailed
        }
        writeStandardError("\(prefix)error: \(error)")
        return .scriptFailed
    }

    /// Writes one line to stderr.
    static func writeStandardError(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}
