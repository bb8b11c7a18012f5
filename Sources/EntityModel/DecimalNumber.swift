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
        var bytes = Substring(text.trimmingSpaces()).utf8[...]
        var negative = false
        if let first = bytes.first, first == UInt8(ascii: "-") || first == UInt8(ascii: "+") {
            negative = first == UInt8(ascii: "-")
            bytes = bytes.dropFirst()
        }
        var value: Int64 = 0
        var scale = 0
        var digits = 0
        var seenPoint = false
        for byte in bytes {
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
        self.init(significand: negative ? -value : value, scale: scale)
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

extension String {
    /// The string without leading and trailing spaces and tabs.
    func trimmingSpaces() -> String {
        var slice = Substring(self)
        while let first = slice.first, first == " " || first == "\t" { slice = slice.dropFirst() }
        while let last = slice.last, last == " " || last == "\t" { slice = slice.dropLast() }
        return String(slice)
    }
}
