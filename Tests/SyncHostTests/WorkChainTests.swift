import Dispatch
import Foundation
import XCTest

@testable import SyncHost

/// The write worker's work runs in the order it was handed over, one item per worker block,
/// and `waitAll` returns only once every item submitted before it has run.
final class WorkChainTests: XCTestCase {
    /// Touched only on the worker, and read after `waitAll`.
    private final class Log: @unchecked Sendable {
        var items: [Int] = []
    }

    func test_itemsRunInOrderAndWaitAllWaitsForEveryOne() {
        let worker = DispatchQueue(label: "test.worker")
        let chain = WorkChain(worker)
        let log = Log()
        for round in 0..<3 {
            for index in 0..<400 {
                // an item that takes a while now and then, so that others are submitted while it runs
                chain.submit {
                    if index % 100 == 0 { usleep(2_000) }
                    log.items.append(round * 1000 + index)
                }
            }
            chain.waitAll()
            XCTAssertEqual(log.items.count, (round + 1) * 400, "round \(round): everything submitted has run")
        }
        XCTAssertEqual(log.items, (0..<3).flatMap { round in (0..<400).map { round * 1000 + $0 } }, "in the order submitted")
    }

    func test_anItemMaySubmitMoreAndWaitAllWaitsForThemToo() {
        let worker = DispatchQueue(label: "test.worker")
        let chain = WorkChain(worker)
        let log = Log()
        chain.submit {
            log.items.append(1)
            chain.submit { log.items.append(3) }
        }
        chain.submit { log.items.append(2) }
        chain.waitAll()
        XCTAssertEqual(log.items, [1, 2, 3])
    }

    func test_anIdleChainDoesNotWait() {
        let chain = WorkChain(DispatchQueue(label: "test.worker"))
        chain.waitAll()  // nothing submitted: returns at once (a hang here fails the suite's time limit)
        let log = Log()
        chain.submit { log.items.append(7) }
        chain.waitAll()
        chain.waitAll()
        XCTAssertEqual(log.items, [7])
    }
}
