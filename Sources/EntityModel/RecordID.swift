import Foundation

/// The primary key of a record: a GUID, always written as a lowercase string.
public struct RecordID: Hashable, Sendable, Comparable, CustomStringConvertible, Codable {
    /// The underlying UUID.
    public let uuid: UUID

    /// Wraps an existing UUID.
    public init(_ uuid: UUID) { self.uuid = uuid }

    /// Parses a GUID string (any case, with or without braces); nil when it is not a GUID.
    public init?(_ text: String) {
        var trimmed = Substring(text)
        if trimmed.hasPrefix("{") && trimmed.hasSuffix("}") {
            trimmed = trimmed.dropFirst().dropLast()
        }
        guard trimmed.count == 36, let uuid = UUID(uuidString: String(trimmed)) else { return nil }
        self.uuid = uuid
    }

    /// The lowercase GUID text, as Dataverse writes it.
    public var description: String { uuid.uuidString.lowercased() }

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
        let uuid = UUID(uuid: (bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
                               bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]))
        return RecordID(uuid)
    }
}
