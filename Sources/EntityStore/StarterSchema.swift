import EntityModel

/// The built-in starter schema: standard tables with Dataverse's column names, so a first
/// run needs no schema work. Keys are created Active (the tables start empty).
public enum StarterSchema {
    /// The starter entity definitions, in dependency order.
    public static let entities: [EntityDefinition] = [businessUnit, systemUser, team, contact, account]

    static let businessUnit = EntityDefinition(
        name: "businessunit", primaryNameAttribute: "name", hasStateModel: false,
        attributes: [
            AttributeDefinition(name: "name", type: .string, maxLength: 160, required: true),
            AttributeDefinition(name: "parentbusinessunitid", type: .lookup, targets: ["businessunit"]),
        ],
        keys: [AlternateKeyDefinition(name: "ak_businessunit_name", columns: ["name"], status: .active)],
        metadataId: RecordID("00000000-0000-4000-8000-000000000001"))

    static let systemUser = EntityDefinition(
        name: "systemuser", primaryNameAttribute: "fullname",
        attributes: [
            AttributeDefinition(name: "domainname", type: .string, maxLength: 256, required: true),
            AttributeDefinition(name: "fullname", type: .string, maxLength: 200),
            AttributeDefinition(name: "internalemailaddress", type: .string, maxLength: 100),
            AttributeDefinition(name: "businessunitid", type: .lookup, targets: ["businessunit"]),
            AttributeDefinition(name: "parentsystemuserid", type: .lookup, targets: ["systemuser"]),
        ],
        keys: [AlternateKeyDefinition(name: "ak_domainname", columns: ["domainname"], status: .active)],
        metadataId: RecordID("00000000-0000-4000-8000-000000000002"))

    static let team = EntityDefinition(
        name: "team", primaryNameAttribute: "name", hasStateModel: false,
        attributes: [
            AttributeDefinition(name: "name", type: .string, maxLength: 160, required: true),
            AttributeDefinition(name: "businessunitid", type: .lookup, targets: ["businessunit"]),
        ],
        keys: [AlternateKeyDefinition(name: "ak_team_name", columns: ["name"], status: .active)],
        metadataId: RecordID("00000000-0000-4000-8000-000000000003"))

    static let contact = EntityDefinition(
        name: "contact", primaryNameAttribute: "fullname", ownership: .user,
        attributes: [
            AttributeDefinition(name: "firstname", type: .string, maxLength: 50),
            AttributeDefinition(name: "lastname", type: .string, maxLength: 50),
            AttributeDefinition(name: "fullname", type: .string, maxLength: 160),
            AttributeDefinition(name: "emailaddress1", type: .string, maxLength: 100),
            AttributeDefinition(name: "telephone1", type: .string, maxLength: 50),
            AttributeDefinition(name: "address1_city", type: .string, maxLength: 80),
            AttributeDefinition(name: "parentcustomerid", type: .lookup, targets: ["account", "contact"]),
        ],
        keys: [AlternateKeyDefinition(name: "ak_email", columns: ["emailaddress1"], status: .active)],
        metadataId: RecordID("00000000-0000-4000-8000-000000000004"))

    static let account = EntityDefinition(
        name: "account", primaryNameAttribute: "name", ownership: .user,
        states: [
            StateOption(value: 0, label: "Active", defaultStatus: 1, statuses: [StatusOption(value: 1, label: "Active")]),
            StateOption(value: 1, label: "Inactive", defaultStatus: 2, statuses: [StatusOption(value: 2, label: "Inactive")]),
        ],
        attributes: [
            AttributeDefinition(name: "name", type: .string, maxLength: 160, required: true),
            AttributeDefinition(name: "accountnumber", type: .string, maxLength: 20),
            AttributeDefinition(name: "telephone1", type: .string, maxLength: 50),
            AttributeDefinition(name: "emailaddress1", type: .string, maxLength: 100),
            AttributeDefinition(name: "address1_city", type: .string, maxLength: 80),
            AttributeDefinition(name: "description", type: .memo, maxLength: 2000),
            AttributeDefinition(name: "revenue", type: .money),
            AttributeDefinition(name: "numberofemployees", type: .integer),
            AttributeDefinition(name: "primarycontactid", type: .lookup, targets: ["contact"]),
            AttributeDefinition(name: "parentaccountid", type: .lookup, targets: ["account"]),
        ],
        keys: [AlternateKeyDefinition(name: "ak_accountnumber", columns: ["accountnumber"], status: .active)],
        metadataId: RecordID("00000000-0000-4000-8000-000000000005"))
}
