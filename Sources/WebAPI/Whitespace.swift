import Foundation

extension StringProtocol {
    /// The text without leading and trailing `CharacterSet.whitespaces` (space, tab and the
    /// Unicode space separators), as `trimmingCharacters(in: .whitespaces)` gives it, but
    /// without bridging to `NSString`: the Web API trims several strings per request and per
    /// `$batch` line.
    func trimmingWhitespace() -> String {
        String(trimmedWhitespace())
    }

    /// `trimmingWhitespace()` as a slice of the text.
    func trimmedWhitespace() -> Substring {
        let scalars = Substring(self).unicodeScalars
        var start = scalars.startIndex, end = scalars.endIndex
        while start != end, Self.isWhitespace(scalars[start]) { start = scalars.index(after: start) }
        while end != start, Self.isWhitespace(scalars[scalars.index(before: end)]) { end = scalars.index(before: end) }
        return Substring(scalars[start..<end])
    }

    private static func isWhitespace(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.isASCII { return scalar == " " || scalar == "\t" }
        return CharacterSet.whitespaces.contains(scalar)
    }
}
