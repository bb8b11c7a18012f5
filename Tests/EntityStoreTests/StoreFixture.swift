import EntityModel
import EntityStore
import Foundation
import XCTest

/// The SPEC §0 fixture on top of the starter schema (Tests/Fixtures, shared with WebAPITests).
let fixtureSchema = (try? String(contentsOfFile: URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("Fixtures/spec-fixture.yaml").path, encoding: .utf8)) ?? "missing: Tests/Fixtures/spec-fixture.yaml"

/// Runs `body` against a fresh in-memory store and a fresh store in a temporary file.
func forEachStore(file: StaticString = #filePath, line: UInt = #line, _ body: (EntityStore) throws -> Void) throws {
    let memory = try EntityStore(path: nil)
    try memory.applySchemaFile(fixtureSchema)
    try body(memory)
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cdsync-test-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let onFile = try EntityStore(path: directory.appendingPathComponent("store.db").path)
    try onFile.applySchemaFile(fixtureSchema)
    try body(onFile)
}

/// Asserts that `body` throws a `ServiceError` with `code`, and returns it.
@discardableResult
func assertServiceError<T>(_ code: ErrorCode, file: StaticString = #filePath, line: UInt = #line,
                           _ body: () throws -> T) -> ServiceError? {
    do {
        _ = try body()
        XCTFail("expected error \(code.value), got success", file: file, line: line)
    } catch let error as ServiceError {
        XCTAssertEqual(error.code, code, "message: \(error.message)", file: file, line: line)
        return error
    } catch {
        XCTFail("expected ServiceError \(code.value), got \(error)", file: file, line: line)
    }
    return nil
}

extension EntityStore {
    /// Creates an account and returns its id.
    @discardableResult
    func createAccount(_ number: String?, name: String = "Contoso", extra: [String: FieldValue] = [:]) throws -> RecordID {
        var fields = extra
        fields["name"] = .string(name)
        if let number { fields["accountnumber"] = .string(number) }
        guard case .created(let id) = try execute(.create(entity: "account", id: nil, fields: fields)) else {
            throw ServiceError(.invalidArgument, "unexpected response")
        }
        return id
    }

    /// A user (`ada.corp`), a team (`Sales`) and a contact (`grace@x.test`, last name Hopper)
    /// for expansion tests: owners of both kinds and a contact lookup target.
    func createExpansionTargets() throws -> (user: EntityReference, team: EntityReference, contact: EntityReference) {
        let user = EntityReference("systemuser", keys: ["domainname": .string("ada.corp")])
        let team = EntityReference("team", keys: ["name": .string("Sales")])
        let contact = EntityReference("contact", keys: ["emailaddress1": .string("grace@x.test")])
        _ = try execute(.upsert(user, fields: ["fullname": .string("Ada")], mode: .createOrUpdate))
        _ = try execute(.upsert(team, fields: [:], mode: .createOrUpdate))
        _ = try execute(.upsert(contact, fields: ["lastname": .string("Hopper")], mode: .createOrUpdate))
        return (user, team, contact)
    }

    /// Retrieves a record by key or id, or nil when missing.
    func find(_ reference: EntityReference) throws -> Record? {
        do { return try retrieve(reference, columns: nil) } catch let error as ServiceError
            where error.code == .recordNotFoundByEntityKey || error.code == .objectDoesNotExist { return nil }
    }

    /// All changes since a token, following pages. With `asRowPage`, the pages' rows come as
    /// row pages, turned into records here.
    func allChanges(_ entity: String, token: String?, columns: [String]? = nil, expand: [String: [String]] = [:],
                    pageSize: Int = 5000, asRowPage: Bool = false) throws -> (items: [ChangeItem], token: String) {
        var items: [ChangeItem] = []
        var cookie: String?
        while true {
            var request = ChangesRequest(entity: entity, columns: columns, token: token, pageSize: pageSize, pagingCookie: cookie)
            request.expand = expand
            request.asRowPage = asRowPage
            let page = try changes(request)
            XCTAssertLessThanOrEqual((page.rows?.count ?? 0) + page.changes.count, pageSize, "a page holds at most its size")
            if let rows = page.rows {
                XCTAssertTrue(asRowPage, "rows came as a page unasked")
                XCTAssertFalse(page.changes.contains { $0.updatedID != nil }, "a row page's records came as records too")
                items += rows.records().map(ChangeItem.newOrUpdated)
            }
            items += page.changes
            if !page.moreRecords { return (items, page.dataToken!) }
            cookie = page.pagingCookie
        }
    }
}

/// Upserts accounts `<prefix>0` … `<prefix><count - 1>` with `description(number)` as their
/// description into the store file at `path`, 500 per batch, then closes the store (which
/// checkpoints the log into the file).
func writeAccounts(to path: String, count: Int, prefix: String, description: (Int) -> String) throws {
    let store = try EntityStore(path: path)
    let shape = RowShape(keyColumns: ["accountnumber"], fieldColumns: ["description"])
    for start in stride(from: 0, to: count, by: 500) {
        let batch = (start..<min(start + 500, count)).map { number -> ServiceRequest in
            .upsertRow(RowUpsert(entity: "account", shape: shape, keyValues: [.string("\(prefix)\(number)")],
                                 values: [.string(description(number))], mode: .createOrUpdate))
        }
        _ = try store.execute(.executeMultiple(batch, continueOnError: false, returnResponses: false))
    }
    try store.close()
}

func account(_ number: String) -> EntityReference { EntityReference("account", keys: ["accountnumber": .string(number)]) }

extension ChangeItem {
    var updatedID: RecordID? { if case .newOrUpdated(let record) = self { return record.id } else { return nil } }
    var deletedID: RecordID? { if case .removedOrDeleted(let reference) = self { return reference.id } else { return nil } }
}

extension XCTestCase {
    /// The path of a store file in a fresh temporary directory, removed when the test ends.
    func temporaryStorePath() throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cdsync-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: directory) }
        return directory.appendingPathComponent("store.db").path
    }
}
