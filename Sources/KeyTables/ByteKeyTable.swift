/// A hash table of byte strings, each with a fixed-size payload, kept in two flat arrays.
///
/// Built for a million keys or more: no `String`, no per-entry allocation and no seeded
/// SipHash. Each entry sits in one byte arena as its length, its key and its payload; the
/// slot array holds the entry's arena offset with 24 bits of its hash, so a probe compares
/// bytes only when hashes match, and a hit reads two places in memory (slot, entry), not three.
/// Entries are never removed (callers drop the whole table instead).
public struct ByteKeyTable: Sendable {
    /// Bytes of each entry's payload (0 for a plain set).
    public let payloadSize: Int
    /// Entries back to back: a 4-byte little-endian key length, the key, then the payload.
    private var arena: [UInt8] = []
    /// 0 = empty; otherwise `hash24 << 40 | (arena offset + 1)`.
    private var slots: [UInt64]
    private var mask: Int
    private let seed: UInt64
    private static let hashBits: UInt64 = 0xFFFF_FF00_0000_0000
    private static let offsetBits: UInt64 = 0x0000_00FF_FFFF_FFFF

    /// The number of keys.
    public private(set) var count = 0

    /// Bytes the table holds (arena and slots), for memory reports and limits.
    public var byteSize: Int { arena.capacity + slots.count * 8 }

    /// An empty table for keys with `payloadSize`-byte payloads, sized for `capacity` keys
    /// (with room for keys of about `keyLength` bytes without growing the arena; memory the
    /// keys do not reach is only reserved, never touched).
    public init(payloadSize: Int = 0, capacity: Int = 16, keyLength: Int = 0) {
        self.payloadSize = payloadSize
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        slots = Array(repeating: 0, count: size)
        mask = size - 1
        seed = UInt64.random(in: 1...UInt64.max)
        if keyLength > 0 { arena.reserveCapacity(capacity * (4 + keyLength + payloadSize)) }
    }

    /// Adds a key with its payload (`payloadSize` bytes; zeros when nil).
    /// Returns false, leaving the table as it was, when the key is already there.
    @discardableResult
    public mutating func insert(_ key: UnsafeRawBufferPointer, payload: UnsafeRawBufferPointer? = nil) -> Bool {
        insert(key, hash: hashBytes(key), payload: payload)
    }

    private mutating func insert(_ key: UnsafeRawBufferPointer, hash: UInt64, payload: UnsafeRawBufferPointer?) -> Bool {
        precondition(key.count <= Int(UInt32.max), "a key longer than 4 GiB")
        var slot = Int(truncatingIfNeeded: hash) & mask
        while slots[slot] != 0 {
            if matches(slots[slot], hash, key) { return false }
            slot = (slot + 1) & mask
        }
        let offset = arena.count
        precondition(UInt64(offset) < Self.offsetBits, "a key table larger than 1 TiB")
        withUnsafeBytes(of: UInt32(key.count).littleEndian) { arena.append(contentsOf: $0) }
        arena.append(contentsOf: key)
        if let payload {
            precondition(payload.count == payloadSize, "payload must be \(payloadSize) bytes")
            arena.append(contentsOf: payload)
        } else if payloadSize > 0 {
            arena.append(contentsOf: repeatElement(0, count: payloadSize))
        }
        slots[slot] = (hash & Self.hashBits) | (UInt64(offset) + 1)
        count += 1
        if count * 2 > slots.count { grow() }
        return true
    }

    /// Adds each of `keys` (without payloads; keys already there are skipped), a group at a
    /// time as `containsEach` looks them up: the group's hashes and first slots are read in a
    /// pass of their own, so their cache misses overlap (a set filled with a million keys in
    /// random order misses the cache on nearly every slot).
    public mutating func insertEach(_ keys: PackedKeys) {
        let group = 16
        var hashes = [UInt64](repeating: 0, count: group)
        var touched: UInt64 = 0
        var first = 0
        while first < keys.count {
            let end = min(first + group, keys.count)
            for index in first..<end {
                let hash = keys.withKey(index) { hashBytes($0) }
                hashes[index - first] = hash
                touched &+= slots[Int(truncatingIfNeeded: hash) & mask]
            }
            for index in first..<end {
                keys.withKey(index) { _ = insert($0, hash: hashes[index - first], payload: nil) }
            }
            first = end
        }
        keep(touched)
    }

    /// Adds the UTF-8 bytes of `key`; see `insert(_:payload:)`.
    @discardableResult
    public mutating func insert(_ key: String, payload: UnsafeRawBufferPointer? = nil) -> Bool {
        key.withUTF8Bytes { insert($0, payload: payload) }
    }

    /// The entry holding `key` (an opaque handle for `withPayload`), or nil.
    public func find(_ key: UnsafeRawBufferPointer) -> Int? { find(key, hash: hashBytes(key)) }

    private func find(_ key: UnsafeRawBufferPointer, hash: UInt64) -> Int? {
        var slot = Int(truncatingIfNeeded: hash) & mask
        while slots[slot] != 0 {
            if matches(slots[slot], hash, key) { return Int(truncatingIfNeeded: slots[slot] & Self.offsetBits) - 1 }
            slot = (slot + 1) & mask
        }
        return nil
    }

    /// Whether the table holds each of `keys` (`answers[i]` for key i), looked up a group at a
    /// time: the group's hash slots, then their entries' bytes are read in separate passes, so
    /// the cache misses of one pass overlap instead of following each other key by key (a
    /// million probes into a million-key table are mostly misses).
    public func containsEach(_ keys: PackedKeys, into answers: inout [Bool]) {
        answers.removeAll(keepingCapacity: true)
        let group = 16
        var hashes = [UInt64](repeating: 0, count: group)
        var firstSlots = [UInt64](repeating: 0, count: group)
        var touched: UInt64 = 0
        var first = 0
        arena.withUnsafeBytes { stored in
            while first < keys.count {
                let end = min(first + group, keys.count)
                for index in first..<end {
                    let hash = keys.withKey(index) { hashBytes($0) }
                    hashes[index - first] = hash
                    firstSlots[index - first] = slots[Int(truncatingIfNeeded: hash) & mask]
                }
                for index in first..<end {
                    let value = firstSlots[index - first]
                    if value != 0, value & Self.hashBits == hashes[index - first] & Self.hashBits {
                        touched &+= UInt64(stored[Int(truncatingIfNeeded: value & Self.offsetBits) - 1])
                    }
                }
                for index in first..<end {
                    answers.append(keys.withKey(index) { find($0, hash: hashes[index - first]) } != nil)
                }
                first = end
            }
        }
        keep(touched)
    }

    /// The entry holding the UTF-8 bytes of `key`, or nil.
    public func find(_ key: String) -> Int? {
        key.withUTF8Bytes { find($0) }
    }

    /// True when the table holds `key`.
    public func contains(_ key: UnsafeRawBufferPointer) -> Bool { find(key) != nil }

    /// True when the table holds the UTF-8 bytes of `key`.
    public func contains(_ key: String) -> Bool { find(key) != nil }

    /// Hands `body` the payload of an entry (valid only during the call).
    public func withPayload<R>(of entry: Int, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try arena.withUnsafeBytes { stored in
            let start = entry + 4 + keyLength(stored, entry)
            return try body(UnsafeRawBufferPointer(rebasing: stored[start..<(start + payloadSize)]))
        }
    }

    private func keyLength(_ stored: UnsafeRawBufferPointer, _ entry: Int) -> Int {
        Int(UInt32(littleEndian: stored.loadUnaligned(fromByteOffset: entry, as: UInt32.self)))
    }

    private func matches(_ slotValue: UInt64, _ hash: UInt64, _ key: UnsafeRawBufferPointer) -> Bool {
        guard slotValue & Self.hashBits == hash & Self.hashBits else { return false }
        let entry = Int(truncatingIfNeeded: slotValue & Self.offsetBits) - 1
        return arena.withUnsafeBytes { stored in
            guard keyLength(stored, entry) == key.count else { return false }
            return key.isEmpty || memcmpBytes(stored.baseAddress! + entry + 4, key.baseAddress!, key.count)
        }
    }

    private mutating func grow() {
        let size = slots.count * 2
        var grown = [UInt64](repeating: 0, count: size)
        let newMask = size - 1
        arena.withUnsafeBytes { stored in
            for value in slots where value != 0 {
                // the slot keeps only 24 hash bits, so re-hash the key to place it
                let entry = Int(truncatingIfNeeded: value & Self.offsetBits) - 1
                let hash = hashBytes(UnsafeRawBufferPointer(rebasing: stored[(entry + 4)..<(entry + 4 + keyLength(stored, entry))]))
                var slot = Int(truncatingIfNeeded: hash) & newMask
                while grown[slot] != 0 { slot = (slot + 1) & newMask }
                grown[slot] = value
            }
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

/// Takes a value the optimizer must not prove unused (the entry reads of `containsEach`'s
/// second pass exist only to bring memory into the cache).
@inline(never) @_optimize(none)
private func keep(_ value: UInt64) {}

/// Byte strings packed end to end (no allocation per key), to hand many keys over at once.
public struct PackedKeys: Sendable {
    /// The keys' bytes, back to back.
    private var bytes: [UInt8] = []
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
