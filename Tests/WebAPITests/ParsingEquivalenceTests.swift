import EntityModel
import Foundation
@testable import WebAPI
import XCTest

/// The byte- and scalar-level parsing of `$batch` bodies, headers and key predicates gives what
/// the Foundation string functions it replaced gave (`replacingOccurrences` + `components`,
/// `trimmingCharacters(in: .whitespaces)`).
final class ParsingEquivalenceTests: XCTestCase {
    private let samples = [
        "", "a", "\n", "\r\n", "\r", "a\r\nb\nc\r", "\r\n\r\n", "x\n\r\ny", "é\r\nü\n😀\r\n",
        "  --b  \r\n\t--b--\t\r\n", "a\u{00A0}\r\n\u{2003}b\u{3000}", "line\u{0301}\r\nnext",
    ]

    func test_linesMatchFoundationSplitting() {
        for text in samples {
            let expected = text.replacingOccurrences(of: "\r\n", with: "\n").components(separatedBy: "\n")
            XCTAssertEqual(Multipart.lines(text).map(String.init), expected, "\(text.debugDescription)")
        }
        // One difference: a CR before a CRLF. Foundation turned "a\r\r\nb" into "a\r\nb" and then
        // did not split that CRLF (one grapheme); each LF now ends a line.
        XCTAssertEqual(Multipart.lines("a\r\r\nb").map(String.init), ["a\r", "b"])
    }

    func test_trimmingMatchesFoundationWhitespaceTrimming() {
        let texts = samples + [" ", "\t x \t", "\u{00A0}x\u{00A0}", "\u{2009}\u{200A}", "x\u{200B}", "\n x \n", "\u{1680}y\u{205F}", " é ", "e\u{0301} "]
        for text in texts {
            XCTAssertEqual(text.trimmingWhitespace(), text.trimmingCharacters(in: .whitespaces), "\(text.debugDescription)")
            XCTAssertEqual(Substring(text).trimmingWhitespace(), Substring(text).trimmingCharacters(in: .whitespaces))
        }
    }

    func test_quotedKeyValuesUndoubleQuotes() throws {
        XCTAssertEqual(try KeyPredicate.value("'O''Brien'", entity: "account"), .string("O'Brien"))
        XCTAssertEqual(try KeyPredicate.value("''''", entity: "account"), .string("'"))
        XCTAssertEqual(try KeyPredicate.value("''", entity: "account"), .string(""))
        XCTAssertEqual(try KeyPredicate.value("'a''''b'", entity: "account"), .string("a''b"))
        XCTAssertThrowsError(try KeyPredicate.value("'a'b'", entity: "account"))
        XCTAssertThrowsError(try KeyPredicate.value("'''", entity: "account"))
    }

    func test_batchPartsParseWithMixedLineEndings() throws {
        let body = "--b\r\nContent-Type: application/http\n\r\nPATCH /api/data/v9.2/accounts(accountnumber='A1') HTTP/1.1\r\n"
            + "Content-Type: application/json\n\n{\"name\":\"x\"}\r\n\r\n--b--\r\n"
        let parts = try Multipart.parse(body, boundary: "b")
        XCTAssertEqual(parts.count, 1)
        XCTAssertEqual(parts[0].headers["content-type"], "application/http")
        let request = try Multipart.request(parts[0])
        XCTAssertEqual(request.method, "PATCH")
        XCTAssertEqual(request.target, "/api/data/v9.2/accounts(accountnumber='A1')")
        XCTAssertEqual(request.header("content-type"), "application/json")
        XCTAssertEqual(String(decoding: request.body, as: UTF8.self), "{\"name\":\"x\"}")
        XCTAssertThrowsError(try Multipart.parse("--b\r\nx\r\n", boundary: "b"))
    }
}
