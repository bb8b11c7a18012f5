import KeyTables
import XCTest

/// The compact byte-string table behind key sets and lookup key maps.
final class ByteKeyTableTests: XCTestCase {
    func test_aSetAgreesWithSwiftsSetOverManyKeysThroughSeveralGrowths() {
        var table = ByteKeyTable()
        var reference = Set<String>()
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<50_000 {
            // short, 8-byte-aligned and long keys, with repeats
            let length = Int.random(in: 0...40, using: &generator)
            let key = String((0..<length).map { _ in "abcdefghij".randomElement(using: &generator)! })
            XCTAssertEqual(table.insert(key), reference.insert(key).inserted, key)
        }
        XCTAssertEqual(table.count, reference.count)
        for key in reference { XCTAssertTrue(table.contains(key), key) }
        for probe in ["zzz", "abcdefghijk-not-there", "A"] { XCTAssertFalse(table.contains(probe)) }
    }

    func test_theEmptyKeyIsAKeyLikeAnyOther() {
        var table = ByteKeyTable()
        XCTAssertFalse(table.contains(""))
        XCTAssertTrue(table.insert(""))
        XCTAssertFalse(table.insert(""))
        XCTAssertTrue(table.contains(""))
        XCTAssertEqual(table.count, 1)
    }

    func test_payloadsStayWithTheirKeysAndAreNotReplacedByASecondInsert() {
        var table = ByteKeyTable(payloadSize: 4)
        for number in 0..<10_000 {
            var payload = UInt32(number).littleEndian
            withUnsafeBytes(of: &payload) { XCTAssertTrue(table.insert("key-\(number)", payload: $0)) }
        }
        var other = UInt32(99).littleEndian
        withUnsafeBytes(of: &other) { XCTAssertFalse(table.insert("key-7", payload: $0)) }
        for number in [0, 7, 4_096, 9_999] {
            let entry = try! XCTUnwrap(table.find("key-\(number)"))
            let stored = table.withPayload(of: entry) { $0.loadUnaligned(as: UInt32.self) }
            XCTAssertEqual(UInt32(littleEndian: stored), UInt32(number))
        }
        XCTAssertNil(table.find("key-10000"))
    }

    func test_keysAreComparedByteForByte() {
        var table = ByteKeyTable()
        table.insert("Alpha")
        XCTAssertFalse(table.contains("alpha"))
        XCTAssertFalse(table.contains("Alph"))
        XCTAssertFalse(table.contains("Alpha "))
        table.insert("café")
        XCTAssertTrue(table.contains("café"))
        XCTAssertFalse(table.contains("cafe"))
    }

    func test_containsEachAnswersAsContainsDoesForEveryKeyOfABatch() {
        var table = ByteKeyTable()
        for number in stride(from: 0, to: 20_000, by: 2) { table.insert("key-\(number)") }
        table.insert("")
        var batch = PackedKeys()
        var expected: [Bool] = []
        // more keys than one probe group, present and absent mixed, the empty key, a prefix
        for key in (0..<1_000).map({ "key-\($0 * 7)" }) + ["", "key-", "key-19998", "key-19999"] {
            var key = key
            key.withUTF8 { batch.append(UnsafeRawBufferPointer($0)) }
            expected.append(table.contains(key))
        }
        var answers = [true, true]
        table.containsEach(batch, into: &answers)
        XCTAssertEqual(answers, expected)
        XCTAssertEqual(answers.filter { $0 }.count, 500 + 2)
        table.containsEach(PackedKeys(), into: &answers)
        XCTAssertEqual(answers, [])
    }

    /// `insertEach` adds what inserting one key at a time adds: keys repeated inside one probe
    /// group and across groups, keys already there, the empty key, and the table growing in the
    /// middle of a group (from its smallest size).
    func test_insertEachAddsWhatInsertingOneByOneAdds() {
        var grouped = ByteKeyTable()
        var single = ByteKeyTable()
        grouped.insert("key-3")
        single.insert("key-3")
        var batch = PackedKeys()
        let keys = (0..<5_000).map { "key-\($0 % 1_700)" } + ["", "", "key-3", "key-"]
        for key in keys {
            var key = key
            key.withUTF8 { batch.append(UnsafeRawBufferPointer($0)) }
            single.insert(key)
        }
        grouped.insertEach(batch)
        XCTAssertEqual(grouped.count, single.count)
        XCTAssertEqual(grouped.count, 1_700 + 2)
        for key in Set(keys) + ["key-1700", "key-17", "KEY-3"] {
            XCTAssertEqual(grouped.contains(key), single.contains(key), key)
        }
        grouped.insertEach(PackedKeys())
        XCTAssertEqual(grouped.count, 1_702)
    }

    func test_packedKeysKeepEachKeyAndFoldOnlyASCIILetters() {
        var keys = PackedKeys(capacity: 2)
        for key in ["AbC-Z@[`", "", "ÉTÉ-Q"] {
            var key = key
            key.withUTF8 { keys.append(UnsafeRawBufferPointer($0)) }
        }
        keys.foldASCIICase()
        XCTAssertEqual(keys.count, 3)
        let folded = (0..<keys.count).map { index in keys.withKey(index) { String(decoding: $0, as: UTF8.self) } }
        XCTAssertEqual(folded, ["abc-z@[`", "", "ÉtÉ-q"])
        keys.removeAll()
        XCTAssertEqual(keys.count, 0)
    }
}
