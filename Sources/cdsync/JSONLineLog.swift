import Foundation

/// The scheduler's log: one JSON line per event on stdout, written at once.
enum JSONLineLog {
    private static let lock = NSLock()

    @Sendable static func write(_ line: String) {
        lock.withLock { FileHandle.standardOutput.write(Data((line + "\n").utf8)) }
    }
}
