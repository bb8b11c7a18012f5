/// A hash table of byte strings, each with a fixed-size payload, kept in a few flat arrays.
///
/// Built for a million keys or more: no `String`, no per-entry allocation and no seeded
/// SipHash. Keys and payloads sit back to back in one byte arena; the slot array holds each
/// entry's index with 32 bits of its hash, so a probe compares bytes only when hashes match.
/// Entries are never removed (callers drop the whole table instead).
public struct ByteKeyTable: Sendable {
    /// Bytes of each entry's payload (0 for a plain set).
    public let payloadSize: Int
    /// Keys then payloads: entry i is `arena[starts[i] ..< starts[i + 1]]`, payload last.
    private var arena: [UInt8] = []
    private var starts: [Int] = [0]
    /// 0 = empty; otherwise `hash32 << 32 | (entry index + 1)`.
    private var slots: [UInt64]
    private var mask: Int
    private let seed: UInt64

    /// The number of keys.
    public var count: Int { starts.count - 1 }

    /// Bytes the table holds (arena, offsets and slots), for memory reports and limits.
    public var byteSize: Int { arena.capacity + starts.capacity * 8 + slots.count * 8 }

    /// An empty table for keys with `payloadSize`-byte payloads, sized for `capacity` keys.
    public init(payloadSize: Int = 0, capacity: Int = 16) {
        self.payloadSize = payloadSize
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        slots = Array(repeating: 0, count: size)
        mask = size - 1
        seed = UInt64.random(in: 1...UInt64.max)
    }

    /// Adds a key with its payload (`payloadSize` bytes; zeros when nil).
    /// Returns false, leaving the table as it was, when the key is already there.
    @discardableResult
    public mutating func insert(_ key: UnsafeRawBufferPointer, payload: UnsafeRawBufferPointer? = nil) -> Bool {
        let hash = hashBytes(key)
        var slot = Int(truncatingIfNeeded: hash) & mask
        while slots[slot] != 0 {
            if matches(slots[slot], hash, key) { return false }
            slot = (slot + 1) & mask
        }
        arena.append(contentsOf: key)
        if let payload {
            precondition(payload.count == payloadSize, "payload must be \(payloadSize) bytes")
            arena.append(contentsOf: payload)
        } else if payloadSize > 0 {
            arena.append(contentsOf: repeatElement(0, count: payloadSize))
        }
        starts.append(arena.count)
        slots[slot] = (hash & 0xFFFF_FFFF_0000_0000) | UInt64(count)
        if count * 2 > slots.count { grow() }
        return true
    }

    /// Adds the UTF-8 bytes of `key`; see `insert(_:payload:)`.
    @discardableResult
    public mutating func insert(_ key: String, payload: UnsafeRawBufferPointer? = nil) -> Bool {
        var key = key
        return key.withUTF8 { insert(UnsafeRawBufferPointer($0), payload: payload) }
    }

    /// The entry holding `key`, or nil.
    public func find(_ key: UnsafeRawBufferPointer) -> Int? { find(key, hash: hashBytes(key)) }

    private func find(_ key: UnsafeRawBufferPointer, hash: UInt64) -> Int? {
        var slot = Int(truncatingIfNeeded: hash) & mask
        while slots[slot] != 0 {
            if matches(slots[slot], hash, key) { return Int(truncatingIfNeeded: slots[slot] & 0xFFFF_FFFF) - 1 }
            slot = (slot + 1) & mask
        }
        return nil
    }

    /// Whether the table holds each of `keys` (`answers[i]` for key i), looked up a group at a
    /// time: the group's hash slots, then their entries' offsets, then their bytes are read in
    /// separate passes, so the cache misses of one pass overlap instead of following each other
    /// key by key (a million probes into a million-key table are mostly misses).
    public func containsEach(_ keys: PackedKeys, into answers: inout [Bool]) {
        answers.removeAll(keepingCapacity: true)
        let group = 16
        var hashes = [UInt64](repeating: 0, count: group)
        var firstSlots = [UInt64](repeating: 0, count: group)
        var touched: UInt64 = 0
        var first = 0
        while first < keys.count {
            let end = min(first + group, keys.count)
            for index in first..<end {
                let hash = keys.withKey(index) { hashBytes($0) }
                hashes[index - first] = hash
                firstSlots[index - first] = slots[Int(truncatingIfNeeded: hash) & mask]
            }
            for index in first..<end {
                let value = firstSlots[index - first]
                if value != 0, value & 0xFFFF_FFFF_0000_0000 == hashes[index - first] & 0xFFFF_FFFF_0000_0000 {
                    let start = starts[Int(truncatingIfNeeded: value & 0xFFFF_FFFF) - 1]
                    touched &+= UInt64(start)
                }
            }
            for index in first..<end {
                answers.append(keys.withKey(index) { find($0, hash: hashes[index - first]) } != nil)
            }
            first = end
        }
        // keeps the offset reads of the second pass from being optimized away
        if touched == UInt64.max { answers.append(false) }
    }

    /// The entry holding the UTF-8 bytes of `key`, or nil.
    public func find(_ key: String) -> Int? {
        var key = key
        return key.withUTF8 { find(UnsafeRawBufferPointer($0)) }
    }

    /// True when the table holds `key`.
    public func contains(_ key: UnsafeRawBufferPointer) -> Bool { find(key) != nil }

    /// True when the table holds the UTF-8 bytes of `key`.
    public func contains(_ key: String) -> Bool { find(key) != nil }

    /// Hands `body` the payload of an entry (valid only during the call).
    public func withPayload<R>(of entry: Int, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        let end = starts[entry + 1]
        return try arena.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[(end - payloadSize)..<end])) }
    }

    private func matches(_ slotValue: UInt64, _ hash: UInt64, _ key: UnsafeRawBufferPointer) -> Bool {
        guard slotValue & 0xFFFF_FFFF_0000_0000 == hash & 0xFFFF_FFFF_0000_0000 else { return false }
        let entry = Int(truncatingIfNeeded: slotValue & 0xFFFF_FFFF) - 1
        let start = starts[entry]
        let length = starts[entry + 1] - start - payloadSize
        guard length == key.count else { return false }
        if length == 0 { return true }
        return arena.withUnsafeBytes { stored in memcmpBytes(stored.baseAddress! + start, key.baseAddress!, length) }
    }

    private mutating func grow() {
        let size = slots.count * 2
        var grown = [UInt64](repeating: 0, count: size)
        let newMask = size - 1
        for value in slots where value != 0 {
            // the slot keeps only 32 hash bits, so re-hash the key to place it
            let entry = Int(truncatingIfNeeded: value & 0xFFFF_FFFF) - 1
            let start = starts[entry]
            let length = starts[entry + 1] - start - payloadSize
            let hash = arena.withUnsafeBytes { hashBytes(UnsafeRawBufferPointer(rebasing: $0[start..<(start + length)])) }
            var slot = Int(truncatingIfNeeded: hash) & newMask
            while grown[slot] != 0 { slot = (slot + 1) & newMask }
            grown[slot] = value
        }
        slots = grown
        mask = newMask
    }

    /// A fast 64-bit hash (8 bytes per step, then a final avalanche); seeded per table.
    private func hashBytes(_ key: UnsafeRawBufferPointer) -> UInt64 {
        var hash = seed ^ (UInt64(key.count) &* 0x9E37_79B9_7F4A_7C15)
        var offset = 0
        while offset + 8 <= key.count {
            hash = (hash ^ key.loadUnaligned(fromByteOffset: offset, as: UInt64.self)) &* 0xBF58_476D_1CE4_E5B9
            hash ^= hash >> 29
            offset += 8
        }
        var tail: UInt64 = 0
        var shift: UInt64 = 0
        while offset < key.count {
            tail |= UInt64(key[offset]) << shift
            shift += 8
            offset += 1
        }
        hash = (hash ^ tail) &* 0x94D0_49BB_1331_11EB
        hash ^= hash >> 31
        hash = hash &* 0xBF58_476D_1CE4_E5B9
        return hash ^ (hash >> 32)
    }
}

/// Byte strings packed end to end (no allocation per key), to hand many keys over at once.
public struct PackedKeys: Sendable {
    /// The keys' bytes, back to back.
    public private(set) var bytes: [UInt8] = []
    private var ends: [Int] = []

    /// The number of keys.
    public var count: Int { ends.count }

    /// An empty list with room for `capacity` keys of about `averageLength` bytes.
    public init(capacity: Int = 0, averageLength: Int = 16) {
        bytes.reserveCapacity(capacity * averageLength)
        ends.reserveCapacity(capacity)
    }

    /// Appends a key.
    public mutating func append(_ key: UnsafeRawBufferPointer) {
        bytes.append(contentsOf: key)
        ends.append(bytes.count)
    }

    /// Empties the list, keeping its storage.
    public mutating func removeAll() {
        bytes.removeAll(keepingCapacity: true)
        ends.removeAll(keepingCapacity: true)
    }

    /// Lower-cases ASCII letters A-Z in every key, in place.
    public mutating func foldASCIICase() {
        bytes.withUnsafeMutableBufferPointer { buffer in
            for index in buffer.indices where buffer[index] &- 65 < 26 { buffer[index] &+= 32 }
        }
    }

    /// Hands `body` key `index`'s bytes (valid only during the call).
    public func withKey<R>(_ index: Int, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        let start = index == 0 ? 0 : ends[index - 1]
        return try bytes.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[start..<ends[index]])) }
    }
}

/// Byte equality without Foundation.
@inline(__always)
private func memcmpBytes(_ left: UnsafeRawPointer, _ right: UnsafeRawPointer, _ count: Int) -> Bool {
    var offset = 0
    while offset + 8 <= count {
        if left.loadUnaligned(fromByteOffset: offset, as: UInt64.self) != right.loadUnaligned(fromByteOffset: offset, as: UInt64.self) {
            return false
        }
        offset += 8
    }
    while offset < count {
        if left.load(fromByteOffset: offset, as: UInt8.self) != right.load(fromByteOffset: offset, as: UInt8.self) { return false }
        offset += 1
    }
    return true
}
