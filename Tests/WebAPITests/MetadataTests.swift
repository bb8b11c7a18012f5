import DataFiles
import EntityModel
import Foundation
import XCTest

/// Metadata endpoints (SPEC §1 rule 7, §3 rule 1, §6 rules 2 and 13).
final class MetadataTests: WebAPITestCase {
    func test_WA17_keysThroughEntityDefinitions() async throws {
        let result = try await server.get("EntityDefinitions(LogicalName='new_widget')?$select=LogicalName,EntitySetName,PrimaryIdAttribute&$expand=Keys($select=LogicalName,KeyAttributes,EntityKeyIndexStatus)")
        XCTAssertEqual(result.status, 200, result.text)
        XCTAssertEqual(result.json?["EntitySetName"]?.stringValue, "new_widgets")
        XCTAssertEqual(result.json?["PrimaryIdAttribute"]?.stringValue, "new_widgetid")
        XCTAssertNil(result.json?["ChangeTrackingEnabled"])
        let keys = result.json?["Keys"]?.arrayValue ?? []
        let columns = keys.map { ($0["KeyAttributes"]?.arrayValue ?? []).compactMap(\.stringValue) }
        XCTAssertEqual(Set(columns), [["new_region", "new_code"], ["new_accountid", "new_code"]])
        XCTAssertEqual(keys.compactMap { $0["EntityKeyIndexStatus"]?.stringValue }, ["Active", "Active"])
    }

    func test_CT13_filterOnChangeTrackingEnabled() async throws {
        let result = try await server.get("EntityDefinitions?$select=LogicalName&$filter=ChangeTrackingEnabled%20eq%20true")
        XCTAssertEqual(result.status, 200, result.text)
        let names = result.rows.compactMap { $0["LogicalName"]?.stringValue }
        XCTAssertTrue(["account", "contact", "new_widget"].allSatisfy(names.contains))
        XCTAssertFalse(names.contains("new_log"))
    }

    func test_AK01_keysSegmentShowsIndexStatus() async throws {
        try server.store.createKey(entity: "new_widget", name: "ak_tmp", columns: ["new_name"])
        let pending = try await server.get("EntityDefinitions(LogicalName='new_widget')/Keys")
        let status = pending.rows.first { $0["LogicalName"]?.stringValue == "ak_tmp" }?["EntityKeyIndexStatus"]?.stringValue
        XCTAssertEqual(status, "Pending")
        _ = try server.store.processKeyJobs()
        let active = try await server.get("EntityDefinitions(LogicalName='new_widget')/Keys")
        XCTAssertEqual(active.rows.first { $0["LogicalName"]?.stringValue == "ak_tmp" }?["EntityKeyIndexStatus"]?.stringValue, "Active")
    }

    func test_entityDefinitionByMetadataIdWithAttributes() async throws {
        let account = try await server.get("EntityDefinitions(LogicalName='account')?$select=MetadataId")
        let id = try XCTUnwrap(account.json?["MetadataId"]?.stringValue)
        let result = try await server.get("EntityDefinitions(\(id))?$expand=Attributes($select=LogicalName,AttributeType)")
        XCTAssertEqual(result.json?["LogicalName"]?.stringValue, "account")
        XCTAssertEqual(result.json?["ChangeTrackingEnabled"]?.boolValue, true)
        let attributes = result.json?["Attributes"]?.arrayValue ?? []
        XCTAssertEqual(attributes.first { $0["LogicalName"]?.stringValue == "revenue" }?["AttributeType"]?.stringValue, "Money")
        let missing = try await server.get("EntityDefinitions(LogicalName='nosuch')")
        XCTAssertEqual(missing.status, 404)
    }

    func test_WA18_metadataAnnotations() async throws {
        let result = try await server.get("$metadata?annotations=true")
        XCTAssertEqual(result.status, 200)
        let xml = result.text
        XCTAssertTrue(xml.contains("<EntitySet Name=\"accounts\" EntityType=\"Microsoft.Dynamics.CRM.account\"><Annotation Term=\"Org.OData.Capabilities.V1.ChangeTracking\">"), xml)
        XCTAssertTrue(xml.contains("<EntitySet Name=\"new_logs\" EntityType=\"Microsoft.Dynamics.CRM.new_log\"></EntitySet>"))
        XCTAssertTrue(xml.contains("PropertyPath=\"accountnumber\""))
    }
}
