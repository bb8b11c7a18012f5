import EntityModel

/// The entity definitions of one request, indexed by logical name and by entity set name.
struct Catalog {
    let definitions: [EntityDefinition]
    private let byName: [String: EntityDefinition]
    private let bySet: [String: EntityDefinition]

    init(_ definitions: [EntityDefinition]) {
        self.definitions = definitions
        byName = Dictionary(definitions.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        bySet = Dictionary(definitions.map { ($0.setName, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// The entity of a logical name.
    func entity(named name: String) -> EntityDefinition? { byName[name] }

    /// The entity of an entity set name (case-sensitive).
    /// - Throws: `0x8006088a` `Resource not found for the segment '…'.`
    func entity(set name: String) throws -> EntityDefinition {
        guard let definition = bySet[name] else {
            throw ServiceError(.resourceNotFound, "Resource not found for the segment '\(name)'.")
        }
        return definition
    }
}
