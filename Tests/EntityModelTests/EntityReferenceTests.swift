import EntityModel
import Foundation
import XCTest

/// A reference by one key column is the same reference however it was made.
final class EntityReferenceTests: XCTestCase {
    func test_aSingleKeyReferenceEqualsTheDictionaryForm() {
        let single = EntityReference("contact", key: "emailaddress1", value: .string("a@x.test"))
        let dictionary = EntityReference("contact", keys: ["emailaddress1": .string("a@x.test")])
        XCTAssertEqual(single, dictionary)
        XCTAssertEqual(single.hashValue, dictionary.hashValue)
        XCTAssertEqual(Set([single, dictionary]).count, 1)
        XCTAssertEqual(single.locator, dictionary.locator)
        XCTAssertEqual(single.keyDescription, dictionary.keyDescription)
        XCTAssertEqual(single.description, "contact(emailaddress1='a@x.test')")
        XCTAssertEqual(single.singleKey?.column, "emailaddress1")
        XCTAssertEqual(dictionary.singleKey?.value, .string("a@x.test"))
        XCTAssertNil(single.id)
    }

    func test_differentKeysEntitiesAndFormsDiffer() {
        let single = EntityReference("contact", key: "emailaddress1", value: .string("a@x.test"))
        XCTAssertNotEqual(single, EntityReference("contact", key: "emailaddress1", value: .string("b@x.test")))
        XCTAssertNotEqual(single, EntityReference("account", key: "emailaddress1", value: .string("a@x.test")))
        XCTAssertNotEqual(single, EntityReference("contact", keys: ["emailaddress1": .string("a@x.test"), "fullname": .string("A")]))
        let id = RecordID(UUID())
        XCTAssertNil(EntityReference("contact", id: id).singleKey)
        XCTAssertNil(EntityReference("contact", keys: ["a": .integer(1), "b": .integer(2)]).singleKey)
        var changed = single
        changed.locator = .id(id)
        XCTAssertEqual(changed, EntityReference("contact", id: id))
        XCTAssertEqual(changed.id, id)
    }
}
