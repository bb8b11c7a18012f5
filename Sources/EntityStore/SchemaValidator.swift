import EntityModel

/// Checks entity and key definitions before they reach SQL.
enum SchemaValidator {
    static let maxKeysPerEntity = 10
    static let maxColumnsPerKey = 16
    static let maxKeyBytes = 900

    /// True for a valid logical name: lowercase letter first, then lowercase letters, digits or `_`, at most 64.
    static func isValidName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, name.count <= 64, ("a"..."z").contains(first) else { return false }
        return name.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" }
    }

    /// Checks the name of an entity a schema creates against the names the store gives its
    /// tables' indexes (`ak_<entity>__<key>`, `ix_<entity>_<column>`) and SQLite's own
    /// (`sqlite_…`): a clash made a key's index serve another entity, or failed the apply as a
    /// store error.
    static func validateNewEntityName(_ name: String) throws {
        for reserved in ["ak_", "ix_", "sqlite"] where name.hasPrefix(reserved) {
            throw ServiceError(.schemaInvalid, "Entity '\(name)': names starting with '\(reserved)' are reserved for the store's own tables and indexes", entity: name)
        }
        if name.count > 62 {
            throw ServiceError(.schemaInvalid, "Entity '\(name)': an entity name is at most 62 characters (its primary key column adds 'id' to it, and names are at most 64)", entity: name)
        }
        if name.contains("__") {
            throw ServiceError(.schemaInvalid, "Entity '\(name)': '__' is reserved for the names of the store's key indexes (ak_<entity>__<key>)", entity: name)
        }
    }

    /// Checks a whole entity definition (names, columns, state model).
    /// - Throws: `schema.invalid` naming the entity and the problem.
    static func validate(_ definition: EntityDefinition, knownEntities: Set<String>) throws {
        let entity = definition.name
        func fail(_ message: String) -> ServiceError {
            ServiceError(.schemaInvalid, "Entity '\(entity)': \(message)", entity: entity)
        }
        guard isValidName(entity) else { throw fail("the name must be lowercase letters, digits and '_', starting with a letter") }
        guard isValidName(definition.setName) else { throw fail("invalid entity set name '\(definition.setName)'") }
        // the hidden column beside each lookup with several targets, naming the target's entity
        let hidden = Dictionary(definition.allAttributes.filter { $0.type.isReference && ($0.targets?.count ?? 0) > 1 }
                                    .map { (EntityTable.typeColumn($0.name), $0.name) }, uniquingKeysWith: { first, _ in first })
        var seen = Set<String>()
        for attribute in definition.allAttributes {
            if let lookup = hidden[attribute.name] {
                throw fail("the column '\(attribute.name)' collides with the column that holds the target entity of lookup '\(lookup)'")
            }
            guard isValidName(attribute.name) else { throw fail("invalid column name '\(attribute.name)'") }
            guard seen.insert(attribute.name).inserted else {
                throw fail("the column '\(attribute.name)' is defined twice or collides with a system column")
            }
            try validate(attribute, knownEntities: knownEntities, fail: fail)
        }
        for attribute in definition.attributes {
            // the store's own state columns (statecode, statuscode) follow the state model; a column of
            // the entity's own cannot
            if attribute.type == .state || attribute.type == .status {
                throw fail("'\(attribute.name)': a column of type \(attribute.type.rawValue) cannot be declared; statecode and statuscode come with the state model")
            }
            if hidden.values.contains(attribute.name), attribute.name.count > 60 {
                throw fail("'\(attribute.name)': a lookup with several targets has a name of at most 60 characters (the column beside it adds 'type')")
            }
        }
        if let primaryName = definition.primaryNameAttribute, definition.attribute(primaryName) == nil {
            throw fail("the primary name column '\(primaryName)' is not defined")
        }
        if definition.hasStateModel { try validateStates(definition.states, fail: fail) }
    }

    /// Refuses settings a column's type has no use for (`max_length` on a number, `options` on
    /// text …): they would be kept and shown but never enforced. Checked on what a file gives.
    static func validateSettingsApply(_ attribute: AttributeDefinition, entity: String) throws {
        let type = attribute.type
        var stray: [String] = []
        if attribute.maxLength != nil, type != .string, type != .memo { stray.append("max_length") }
        if attribute.precision != nil, type != .decimal, type != .money { stray.append("precision") }
        if attribute.options != nil, type != .choice { stray.append("options") }
        if attribute.targets != nil, !type.isReference { stray.append("targets") }
        if attribute.minValue != nil || attribute.maxValue != nil, type != .integer, type != .choice {
            stray.append(attribute.minValue != nil ? "min_value" : "max_value")
        }
        guard !stray.isEmpty else { return }
        throw ServiceError(.schemaInvalid,
            "Entity '\(entity)': '\(attribute.name)' is \("aeiou".contains(type.rawValue.prefix(1)) ? "an" : "a") \(type.rawValue) column; \(stray.joined(separator: " and ")) do\(stray.count == 1 ? "es" : "") not apply to it.",
            entity: entity)
    }

    /// Checks one column's own settings (lengths, places, targets, options, bounds).
    static func validate(_ attribute: AttributeDefinition, knownEntities: Set<String>,
                         fail: (String) -> ServiceError) throws {
        switch attribute.type {
        case .string:
            guard (1...4000).contains(attribute.effectiveMaxLength) else { throw fail("'\(attribute.name)': max_length must be 1–4000") }
        case .memo:
            guard (1...1_048_576).contains(attribute.effectiveMaxLength) else { throw fail("'\(attribute.name)': max_length must be 1–1048576") }
        case .decimal:
            guard (0...10).contains(attribute.effectivePrecision) else { throw fail("'\(attribute.name)': precision must be 0–10") }
        case .money:
            guard (0...4).contains(attribute.effectivePrecision) else { throw fail("'\(attribute.name)': precision must be 0–4") }
        case .lookup, .owner:
            guard let targets = attribute.targets, !targets.isEmpty else { throw fail("'\(attribute.name)': a lookup needs targets") }
            for target in targets where !knownEntities.contains(target) {
                throw fail("'\(attribute.name)': the target entity '\(target)' does not exist")
            }
        case .choice:
            var values = Set<Int64>()
            for option in attribute.options ?? [] where !values.insert(option.value).inserted {
                throw fail("'\(attribute.name)': the option value \(option.value) is given twice")
            }
        default:
            break
        }
        if let minimum = attribute.minValue, let maximum = attribute.maxValue, minimum > maximum {
            throw fail("'\(attribute.name)': min_value \(minimum) is greater than max_value \(maximum)")
        }
    }

    private static func validateStates(_ states: [StateOption], fail: (String) -> ServiceError) throws {
        guard !states.isEmpty else { throw fail("a state model needs at least one state") }
        var statusValues = Set<Int64>()
        for state in states {
            guard state.statuses.contains(where: { $0.value == state.defaultStatus }) else {
                throw fail("state \(state.value): default_status \(state.defaultStatus) is not one of its statuses")
            }
            for status in state.statuses where !statusValues.insert(status.value).inserted {
                throw fail("status \(status.value) belongs to more than one state")
            }
        }
    }

    /// Checks a new key against the entity and its existing keys (SPEC §1 rules 1, 3, 4).
    /// - Throws: `0x8006088f`, `0x80060893`, `0x80060894` or `0x80060895`.
    static func validateKey(_ key: AlternateKeyDefinition, in definition: EntityDefinition) throws {
        let entity = definition.name
        func invalid(_ reason: String) -> ServiceError {
            ServiceError(.invalidEntityKeyOperation, "Invalid EntityKey Operation performed : \(reason)", entity: entity)
        }
        guard isValidName(key.name) else { throw invalid("the key name '\(key.name)' is not a valid logical name") }
        if definition.keys.contains(where: { $0.name == key.name }) {
            throw ServiceError(.entityKeyNameExists, "An entity key with the name '\(key.name)' already exists on '\(entity)'.", entity: entity)
        }
        guard definition.keys.count < maxKeysPerEntity else {
            throw invalid("'\(entity)' already has \(maxKeysPerEntity) keys, the maximum")
        }
        guard (1...maxColumnsPerKey).contains(key.columns.count), Set(key.columns).count == key.columns.count else {
            throw invalid("a key needs 1 to \(maxColumnsPerKey) distinct columns")
        }
        var bytes = 0
        for column in key.columns {
            guard let attribute = definition.attribute(column) else { throw invalid("the column '\(column)' does not exist on '\(entity)'") }
            guard attribute.type.allowedInKey, attribute.name != definition.primaryIdAttribute else {
                throw invalid("the column '\(column)' of type \(attribute.type.rawValue) cannot be part of a key")
            }
            bytes += attribute.keyByteWidth
        }
        if definition.keys.contains(where: { Set($0.columns) == Set(key.columns) }) {
            throw ServiceError(.entityKeyWithSelectedAttributesExists,
                "An entity key with the columns \(key.columns.joined(separator: ", ")) already exists on '\(entity)'.", entity: entity)
        }
        guard bytes <= maxKeyBytes else {
            throw ServiceError(.indexSizeConstraintViolated,
                "Index size exceeded the size limit of \(maxKeyBytes) bytes. The key is too large. Try removing some columns or making the string columns smaller.",
                entity: entity)
        }
    }
}
