import Foundation

/// Calls back once per SIGINT/SIGTERM/SIGHUP (the signals' default action is turned off: a
/// closed terminal's SIGHUP ended the scheduler at once, its runs left behind).
///
/// The callback runs on a queue of its own, not a global one: a global queue has about as
/// many threads as cores, all of which may be busy or blocked, and a signal must still be
/// handled at once.
final class SignalWatch: @unchecked Sendable {
    private var sources: [DispatchSourceSignal] = []
    private let queue = DispatchQueue(label: "cdsync.signals")

    init(_ handler: @escaping @Sendable (String) -> Void) {
        for (number, name) in [(SIGINT, "SIGINT"), (SIGTERM, "SIGTERM"), (SIGHUP, "SIGHUP")] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler { handler(name) }
            source.resume()
            sources.append(source)
        }
    }
}
