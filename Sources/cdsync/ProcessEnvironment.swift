import Foundation

/// Reads the process environment.
enum ProcessEnvironment {
    /// The value of an environment variable, nil when unset or empty.
    static func value(_ name: String) -> String? {
        guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else { return nil }
        return value
    }
}

extension ProcessEnvironment {
    /// This machine's name from gethostname(2), without the DNS lookup ProcessInfo.hostName may do.
    static let hostName: String = {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "localhost" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }()
}
