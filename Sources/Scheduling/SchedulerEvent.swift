import Foundation

/// One line of the scheduler's JSON-lines log, with its members in a fixed order.
public struct SchedulerEvent: Sendable, Equatable {
    /// The event's name (`run_started`, `run_finished`, `retry_scheduled`, …).
    public let name: String
    /// The members after `time` and `event`, already encoded as JSON values.
    public private(set) var members: [(key: String, json: String)] = []

    public static func == (lhs: SchedulerEvent, rhs: SchedulerEvent) -> Bool {
        lhs.name == rhs.name && lhs.members.map(\.key) == rhs.members.map(\.key) && lhs.members.map(\.json) == rhs.members.map(\.json)
    }

    public init(_ name: String) { self.name = name }

    /// The same event with a text member.
    public func with(_ key: String, _ text: String?) -> SchedulerEvent {
        guard let text else { return self }
        return adding(key, Self.quote(text))
    }

    /// The same event with a number member.
    public func with(_ key: String, _ number: Int) -> SchedulerEvent { adding(key, String(number)) }

    /// The same event with a time member (ISO 8601, UTC).
    public func with(_ key: String, _ date: Date) -> SchedulerEvent { with(key, Self.timestamp(date)) }

    /// The same event with a member that is already JSON (e.g. a run's report object).
    public func with(_ key: String, json: String?) -> SchedulerEvent {
        guard let json else { return self }
        return adding(key, json)
    }

    /// A member's JSON text.
    public func member(_ key: String) -> String? { members.first { $0.key == key }?.json }

    /// The JSON line, stamped with `time`.
    public func line(at time: Date) -> String {
        Self.object([("time", Self.quote(Self.timestamp(time))), ("event", Self.quote(name))] + members.map { ($0.key, $0.json) })
    }

    /// The members alone as a JSON object (no `time`, no `event`).
    public var membersObject: String { Self.object(members.map { ($0.key, $0.json) }) }

    private static func object(_ members: [(String, String)]) -> String {
        "{" + members.map { "\(quote($0.0)):\($0.1)" }.joined(separator: ",") + "}"
    }

    private func adding(_ key: String, _ json: String) -> SchedulerEvent {
        var copy = self
        copy.members.append((key, json))
        return copy
    }

    /// ISO 8601 in UTC with seconds: `2026-11-27T02:30:00Z`.
    public static func timestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }

    /// A JSON string literal.
    public static func quote(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case _ where scalar.value < 0x20: result += String(format: "\\u%04x", scalar.value)
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result + "\""
    }
}
