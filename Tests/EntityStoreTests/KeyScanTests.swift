import EntityModel
import EntityStore
import KeyTables
import XCTest

/// `scanKeyColumn`, the comparison behind `cds.missing`: keys are checked a batch at a time on
/// a second thread while the scan reads on, so the answers of every batch must come back to
/// the right rows, in both the key-index scan and the filtered table scan.
final class KeyScanTests: XCTestCase {
    /// 7,001 accounts (four batches of checks and a short one); the set lacks keys at the
    /// first and last row and at every 997th, so missing rows fall in every batch.
    func test_missingRowsComeFromEveryBatchInBothScans() throws {
        try forEachStore { store in
            let count = 7001
            let numbers = (0..<count).map { String(format: "K%05d", $0) }
            try store.beginRunTransaction()
            for (index, number) in numbers.enumerated() { try store.createAccount(number, name: index % 2 == 1 ? "odd" : "even") }
            try store.endRunTransaction(commit: true)
            let lacking = Set(numbers.indices.filter { $0 == 0 || $0 == count - 1 || $0 % 997 == 5 }.map { numbers[$0].lowercased() })
            XCTAssertEqual(lacking.count, 10)

            var checked = 0
            func areKnown(_ keys: inout PackedKeys, _ answers: inout [Bool]) {
                keys.foldASCIICase()
                answers.removeAll(keepingCapacity: true)
                for index in 0..<keys.count {
                    answers.append(!lacking.contains(keys.withKey(index) { String(decoding: $0, as: UTF8.self) }))
                }
                checked += keys.count
            }
            let all = try XCTUnwrap(store.scanKeyColumn(entity: "account", column: "accountnumber", columns: ["name"],
                                                        filter: nil, areKnown: areKnown))
            XCTAssertEqual(all.considered, count)
            XCTAssertEqual(checked, count)
            XCTAssertEqual(Set(all.missing.compactMap { text($0.fields["accountnumber"])?.lowercased() }), lacking)
            XCTAssertTrue(all.missing.allSatisfy { $0.fields["name"] != nil && $0.id != nil })

            // a filter reads the table instead of the key index: ids, not rowids, locate the rows
            checked = 0
            let filter = try FilterParser.parse("name eq 'odd'")
            let odd = try XCTUnwrap(store.scanKeyColumn(entity: "account", column: "accountnumber", columns: [],
                                                        filter: filter, areKnown: areKnown))
            let oddNumbers = numbers.indices.filter { $0 % 2 == 1 }.map { numbers[$0].lowercased() }
            XCTAssertEqual(odd.considered, oddNumbers.count)
            XCTAssertEqual(checked, oddNumbers.count)
            let oddLacking = lacking.intersection(oddNumbers)
            XCTAssertEqual(oddLacking.count, 4)
            XCTAssertEqual(Set(odd.missing.compactMap { text($0.fields["accountnumber"])?.lowercased() }), oddLacking)
        }
    }

    private func text(_ value: FieldValue?) -> String? {
        if case .string(let text) = value { return text }
        return nil
    }
}
