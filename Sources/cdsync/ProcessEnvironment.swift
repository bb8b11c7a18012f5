import Foundation

/// Reads the process environment.
enum ProcessEnvironment {
    /// The value of an environment variable, nil when unset or empty.
    static func value(_ name: String) -> String? {
        guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else { return nil }
        return value
    }
}
