/// An exact decimal number (an integer significand and a count of fraction digits).
/// Money and decimal columns use it so that no value ever passes through a float.
public struct DecimalNumber: Hashable, Sendable, Comparable, CustomStringConvertible, BitwiseCopyable {
    /// The value times 10^scale.
    public let significand: Int64
    /// The number of fraction digits.
    public let scale: Int

    /// Creates a number from its significand and scale (value = significand / 10^scale).
    public init(significand: Int64, scale: Int) {
        self.significand = significand
        self.scale = scale
    }

    /// Creates a whole number.
    public init(_ integer: Int64) { self.init(significand: integer, scale: 0) }

    /// Parses decimal text such as `-1234.50`, `+3`, `.5` or `7.`; nil for anything else
    /// (exponents, separators, more than 18 significant digits).
    public init?(_ text: String) {
        var text = text
        guard let value = text.withUTF8({ Self.parse(UnsafeRawBufferPointer($0)) }) else { return nil }
        self = value
    }

    /// Parses decimal text given as UTF-8 bytes, as `init?(_:)` parses a string (a Lua
    /// string's bytes, read in place).
    public init?(utf8 bytes: UnsafeRawBufferPointer) {
        guard let value = Self.parse(bytes) else { return nil }
        self = value
    }

    /// Spaces and tabs around the number are ignored; every other byte must be a sign (first),
    /// a digit or the one point.
    private static func parse(_ text: UnsafeRawBufferPointer) -> DecimalNumber? {
        var start = 0, end = text.count
        while start < end, text[start] == UInt8(ascii: " ") || text[start] == UInt8(ascii: "\t") { start += 1 }
        while end > start, text[end - 1] == UInt8(ascii: " ") || text[end - 1] == UInt8(ascii: "\t") { end -= 1 }
        var negative = false
        if start < end, text[start] == UInt8(ascii: "-") || text[start] == UInt8(ascii: "+") {
            negative = text[start] == UInt8(ascii: "-")
            start += 1
        }
        var value: Int64 = 0
        var scale = 0
        var digits = 0
        var seenPoint = false
        for offset in start..<end {
            let byte = text[offset]
            if byte == UInt8(ascii: ".") {
                guard !seenPoint else { return nil }
                seenPoint = true
                continue
            }
            guard byte >= 48 && byte <= 57 else { return nil }
            let (times, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times.addingReportingOverflow(Int64(byte - 48))
            guard !overflow1 && !overflow2 else { return nil }
            value = sum
            digits += 1
            if seenPoint { scale += 1 }
        }
        guard digits > 0 else { return nil }
        return DecimalNumber(significand: negative ? -value : value, scale: scale)
    }

    /// The canonical text: no exponent, at least one digit before the point, `scale` digits after it.
    public var description: String {
        // written from the last digit back into a buffer on the stack, then made a string once
        // (a change feed writes every money value out as text)
        let fractionDigits = max(scale, 0)
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 22 + fractionDigits) { buffer in
            var magnitude = significand.magnitude
            var start = buffer.count
            func put(_ byte: UInt8) {
                start -= 1
                buffer[start] = byte
            }
            for _ in 0..<fractionDigits {
                put(UInt8(ascii: "0") + UInt8(magnitude % 10))
                magnitude /= 10
            }
            if fractionDigits > 0 { put(UInt8(ascii: ".")) }
            repeat {
                put(UInt8(ascii: "0") + UInt8(magnitude % 10))
                magnitude /= 10
            } while magnitude > 0
            if significand < 0 { put(UInt8(ascii: "-")) }
            return String(decoding: UnsafeBufferPointer(rebasing: buffer[start...]), as: UTF8.self)
        }
    }

    /// Rescales to `newScale` fraction digits, rounding half away from zero when digits are dropped;
    /// nil when the result does not fit in 64 bits.
    public func rescaled(to newScale: Int) -> DecimalNumber? {
        if newScale == scale { return self }
        if newScale > scale {
            var value = significand
            for _ in 0..<(newScale - scale) {
                let (next, overflow) = value.multipliedReportingOverflow(by: 10)
                if overflow { return nil }
                value = next
            }
            return DecimalNumber(significand: value, scale: newScale)
        }
        var divisor: Int64 = 1
        for _ in 0..<(scale - newScale) {
            let (next, overflow) = divisor.multipliedReportingOverflow(by: 10)
            if overflow { return DecimalNumber(significand: 0, scale: newScale) }
            divisor = next
        }
        let quotient = significand / divisor
        let remainder = significand % divisor
        let roundAway = remainder.magnitude * 2 >= divisor.magnitude
        let rounded = roundAway ? quotient + (significand < 0 ? -1 : 1) : quotient
        return DecimalNumber(significand: rounded, scale: newScale)
    }

    /// Compares by value, whatever the scales.
    public static func < (lhs: DecimalNumber, rhs: DecimalNumber) -> Bool {
        let scale = max(lhs.scale, rhs.scale)
        guard let left = lhs.rescaled(to: scale), let right = rhs.rescaled(to: scale) else {
            return lhs.description.count < rhs.description.count
        }
        return left.significand < right.significand
    }

    /// Equal when the values are equal (1.50 == 1.5).
    public static func == (lhs: DecimalNumber, rhs: DecimalNumber) -> Bool {
        let scale = max(lhs.scale, rhs.scale)
        guard let left = lhs.rescaled(to: scale), let right = rhs.rescaled(to: scale) else { return false }
        return left.significand == right.significand
    }

    public func hash(into hasher: inout Hasher) {
        var value = significand
        var scale = self.scale
        while scale > 0 && value % 10 == 0 {
            value /= 10
            scale -= 1
        }
        hasher.combine(value)
        hasher.combine(scale)
    }
}
