import Foundation

/// The one serial thread the synchronous engine runs on. Handlers hop onto it through a
/// continuation, so a slow request never blocks the NIO event loops, and engine calls
/// (and a `$batch` change set's transaction) are never interleaved.
final class EngineQueue: Sendable {
    private let queue = DispatchQueue(label: "cdsync.webapi.engine", qos: .userInitiated)

    /// Runs `body` on the engine queue and returns its result.
    func run<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            queue.async { continuation.resume(returning: body()) }
        }
    }
}
