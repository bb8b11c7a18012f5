import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A job's run lock: an exclusive `flock(2)` on `<store>.locks/<job>.lock`, held for the
/// whole run. The file holds the holder's pid and start time for messages.
///
/// The kernel drops the lock when its process ends, however it ends (SIGKILL included),
/// so a lock left by a dead process is free again and a live run's lock is never taken.
public final class JobLock: @unchecked Sendable {
    /// Why a lock was not taken.
    public enum Failure: Error, CustomStringConvertible, Equatable {
        /// Another live process holds it: its pid and start time, as it wrote them.
        case held(job: String, holder: String)
        /// The lock file could not be created or opened.
        case unavailable(path: String, reason: String)

        public var description: String {
            switch self {
            case .held(let job, let holder):
                "job '\(job)' is already running (\(holder.isEmpty ? "holder unknown" : holder)); this run was not started"
            case .unavailable(let path, let reason): "cannot use the lock file \(path): \(reason)"
            }
        }
    }

    public let path: String
    private var descriptor: Int32

    private init(path: String, descriptor: Int32) {
        self.path = path
        self.descriptor = descriptor
    }

    deinit { release() }

    /// The lock directory of a store file.
    public static func directory(forStore storePath: String) -> String { storePath + ".locks" }

    /// The lock file of a job.
    public static func path(job: String, directory: String) -> String { (directory as NSString).appendingPathComponent(job + ".lock") }

    /// Takes the job's lock without waiting.
    /// - Throws: `Failure.held` when a live process holds it, `Failure.unavailable` on I/O errors.
    public static func acquire(job: String, directory: String, now: Date = Date()) throws -> JobLock {
        let path = path(job: job, directory: directory)
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw Failure.unavailable(path: path, reason: error.localizedDescription)
        }
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw Failure.unavailable(path: path, reason: String(cString: strerror(errno))) }
        if flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
            let code = errno
            close(descriptor)
            if code == EWOULDBLOCK { throw Failure.held(job: job, holder: holderText(path)) }
            throw Failure.unavailable(path: path, reason: String(cString: strerror(code)))
        }
        let text = "pid \(getpid()) since \(SchedulerEvent.timestamp(now))\n"
        _ = ftruncate(descriptor, 0)
        _ = text.withCString { pwrite(descriptor, $0, strlen($0), 0) }
        return JobLock(path: path, descriptor: descriptor)
    }

    /// Empties the file and releases the lock (also done when the process dies).
    public func release() {
        guard descriptor >= 0 else { return }
        _ = ftruncate(descriptor, 0)
        close(descriptor)
        descriptor = -1
    }

    private static func holderText(_ path: String) -> String {
        ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
