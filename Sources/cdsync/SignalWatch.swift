import Foundation

/// Calls back once per SIGINT/SIGTERM (the signals' default action is turned off).
///
/// The callback runs on a queue of its own, not a global one: a global queue has about as
/// many threads as cores, all of which may be busy or blocked, and a signal must still be
/// handled at once.
final class SignalWatch: @unchecked Sendable {
    private var sources: [DispatchSourceSignal] = []
    private let queue = DispatchQueue(label: "cdsync.signals")

    init(_ handler: @escaping @Sendable (String) -> Void) {
        for (number, name) in [(SIGINT, "SIGINT"), (SIGTERM, "SIGTERM")] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler { handler(name) }
            source.resume()
            sources.append(source)
        }
    }
}
