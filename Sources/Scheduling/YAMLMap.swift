import Foundation

/// A YAML mapping with typed reads that name the key in their errors.
struct YAMLMap {
    struct Problem: Error { let message: String }

    let values: [String: Any]
    let context: String

    init(_ value: Any?, context: String) throws {
        guard let dictionary = value as? [String: Any] else { throw Problem(message: "\(context) must be a mapping of keys to values") }
        values = dictionary
        self.context = context
    }

    func allowOnly(_ keys: [String]) throws {
        if let unknown = values.keys.sorted().first(where: { !keys.contains($0) }) {
            throw Problem(message: "unknown key '\(unknown)' in \(context) (known: \(keys.joined(separator: ", ")))")
        }
    }

    func map(_ key: String) throws -> YAMLMap? {
        guard let value = values[key] else { return nil }
        return try YAMLMap(value, context: "'\(key)'")
    }

    func string(_ key: String) throws -> String? {
        guard let value = values[key] else { return nil }
        switch value {
        case let text as String: return text
        case let number as Int: return String(number)
        case let number as Double: return String(number)
        case let flag as Bool: return flag ? "true" : "false"
        default: throw Problem(message: "'\(key)' in \(context) must be a text value")
        }
    }

    func integer(_ key: String, in range: ClosedRange<Int>) throws -> Int? {
        guard let value = values[key] else { return nil }
        guard let number = value as? Int, range.contains(number) else {
            throw Problem(message: "'\(key)' in \(context) must be a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return number
    }

    func seconds(_ key: String, in range: ClosedRange<Double>) throws -> Double? {
        guard let value = values[key] else { return nil }
        let number = (value as? Int).map(Double.init) ?? (value as? Double)
        guard let number, range.contains(number) else {
            throw Problem(message: "'\(key)' in \(context) must be a number of seconds from \(Int(range.lowerBound)) to \(Int(range.upperBound))")
        }
        return number
    }

    func bool(_ key: String) throws -> Bool? {
        guard let value = values[key] else { return nil }
        guard let flag = value as? Bool else { throw Problem(message: "'\(key)' in \(context) must be true or false") }
        return flag
    }

    func strings(_ key: String) throws -> [String]? {
        guard let value = values[key] else { return nil }
        guard let list = value as? [Any] else { throw Problem(message: "'\(key)' in \(context) must be a list") }
        return try list.map { item in
            let wrapped = YAMLMap(values: ["item": item], context: "'\(key)'")
            return try wrapped.string("item") ?? ""
        }
    }

    private init(values: [String: Any], context: String) {
        self.values = values
        self.context = context
    }
}
