import Foundation

/// The primary key of a record: a GUID, always written as a lowercase string.
public struct RecordID: Hashable, Sendable, Comparable, CustomStringConvertible, Codable {
    /// The lowercase GUID text (kept, because ids are written to SQLite far more often than built).
    public let description: String

    /// Wraps an existing UUID.
    public init(_ uuid: UUID) {
        let bytes = uuid.uuid
        description = Self.format([bytes.0, bytes.1, bytes.2, bytes.3, bytes.4, bytes.5, bytes.6, bytes.7,
                                   bytes.8, bytes.9, bytes.10, bytes.11, bytes.12, bytes.13, bytes.14, bytes.15])
    }

    /// Parses a GUID string (any case, with or without braces); nil when it is not a GUID.
    public init?(_ text: String) {
        // ids read back from the store are already in canonical form: keep the text as it is
        if Self.isCanonical(text) {
            description = text
            return
        }
        var utf8 = Substring(text).utf8[...]
        if utf8.first == UInt8(ascii: "{") && utf8.last == UInt8(ascii: "}") { utf8 = utf8.dropFirst().dropLast() }
        guard utf8.count == 36 else { return nil }
        var lowered = [UInt8]()
        lowered.reserveCapacity(36)
        for (offset, byte) in utf8.enumerated() {
            if offset == 8 || offset == 13 || offset == 18 || offset == 23 {
                guard byte == UInt8(ascii: "-") else { return nil }
                lowered.append(byte)
                continue
            }
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "f"): lowered.append(byte)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): lowered.append(byte + 32)
            default: return nil
            }
        }
        description = String(decoding: lowered, as: UTF8.self)
    }

    /// An id read back from the store, from its stored text's bytes: text in canonical form
    /// (what the store writes) is kept as it is, checked in one pass and copied once; other
    /// text is parsed as `init?(_:)` parses it.
    public init?(storedBytes bytes: UnsafeBufferPointer<UInt8>) {
        if Self.isCanonical(bytes) {
            self.init(canonical: String(decoding: bytes, as: UTF8.self))
        } else {
            self.init(String(decoding: bytes, as: UTF8.self))
        }
    }

    private init(canonical text: String) { description = text }

    /// True for 36 characters of lowercase hex digits with dashes at 8, 13, 18 and 23.
    private static func isCanonical(_ text: String) -> Bool {
        guard text.utf8.count == 36 else { return false }
        return text.utf8.withContiguousStorageIfAvailable(isCanonical) ?? false
    }

    private static func isCanonical(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard bytes.count == 36, bytes[8] == dash, bytes[13] == dash, bytes[18] == dash, bytes[23] == dash else { return false }
        // the digits looked up in a table, without a branch per byte
        var digits: UInt8 = 1
        for offset in 0..<8 { digits &= lowercaseHexDigit[Int(bytes[offset])] }
        for offset in 9..<13 { digits &= lowercaseHexDigit[Int(bytes[offset])] }
        for offset in 14..<18 { digits &= lowercaseHexDigit[Int(bytes[offset])] }
        for offset in 19..<23 { digits &= lowercaseHexDigit[Int(bytes[offset])] }
        for offset in 24..<36 { digits &= lowercaseHexDigit[Int(bytes[offset])] }
        return digits == 1
    }

    private static let dash = UInt8(ascii: "-")

    /// 1 for the bytes of lowercase hex digits, 0 for any other.
    private static let lowercaseHexDigit: [UInt8] = (0..<256).map { byte in
        (byte >= 0x30 && byte <= 0x39) || (byte >= 0x61 && byte <= 0x66) ? 1 : 0
    }

    /// The GUID as a UUID value.
    public var uuid: UUID { UUID(uuidString: description)! }

    /// Orders by the lowercase text form, which is also the storage order.
    public static func < (lhs: RecordID, rhs: RecordID) -> Bool { lhs.description < rhs.description }

    public init(from decoder: Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let id = RecordID(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a GUID: \(text)"))
        }
        self = id
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` from 16 bytes, without Foundation's formatter.
    static func format(_ bytes: [UInt8]) -> String {
        var text = [UInt8]()
        text.reserveCapacity(36)
        for (index, byte) in bytes.enumerated() {
            if index == 4 || index == 6 || index == 8 || index == 10 { text.append(UInt8(ascii: "-")) }
            text.append(hexDigits[Int(byte >> 4)])
            text.append(hexDigits[Int(byte & 0x0f)])
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// Builds an id from 16 raw bytes in GUID text order (as `uuid` holds them), with one
    /// allocation: the text itself.
    public init(bytes: UnsafeRawBufferPointer) {
        precondition(bytes.count == 16, "a GUID has 16 bytes")
        description = String(unsafeUninitializedCapacity: 36) { text in
            var offset = 0
            for index in 0..<16 {
                if index == 4 || index == 6 || index == 8 || index == 10 {
                    text[offset] = UInt8(ascii: "-")
                    offset += 1
                }
                let byte = bytes[index]
                text[offset] = Self.hexDigits[Int(byte >> 4)]
                text[offset + 1] = Self.hexDigits[Int(byte & 0x0f)]
                offset += 2
            }
            return offset
        }
    }

    /// Builds an id from 16 raw bytes.
    static func fromBytes(_ bytes: [UInt8]) -> RecordID {
        RecordID(formatted: format(bytes))
    }

    private init(formatted: String) { description = formatted }
}

/// Issues time-ordered GUIDs so that inserts append to the primary-key index instead of
/// writing all over it (Dataverse issues sequential GUIDs for the same reason).
public struct SequentialIDGenerator: Sendable {
    private var lastMillis: UInt64 = 0
    private var counter: UInt32 = 0
    private var random: UInt64

    /// Creates a generator seeded from the system's random source.
    public init() { random = UInt64.random(in: 0...UInt64.max) }

    /// Returns the next GUID: 48 bits of milliseconds, a 28-bit counter, then random bits (UUIDv7 layout).
    public mutating func next(now: Date = Date()) -> RecordID {
        let millis = UInt64(max(0, now.timeIntervalSince1970 * 1000))
        if millis > lastMillis {
            lastMillis = millis
            counter = 0
        } else {
            counter &+= 1
        }
        random = random &* 6364136223846793005 &+ 1442695040888963407
        var bytes = [UInt8](repeating: 0, count: 16)
        for index in 0..<6 { bytes[index] = UInt8((lastMillis >> (8 * (5 - index))) & 0xff) }
        bytes[6] = 0x70 | UInt8((counter >> 24) & 0x0f)
        bytes[7] = UInt8((counter >> 16) & 0xff)
        bytes[8] = 0x80 | UInt8((counter >> 8) & 0x3f)
        bytes[9] = UInt8(counter & 0xff)
        for index in 10..<16 { bytes[index] = UInt8((random >> (8 * (index - 10))) & 0xff) }
        return RecordID.fromBytes(bytes)
    }
}
