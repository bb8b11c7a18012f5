import EntityModel
import EntityStore

/// Human-readable schema output for `cdsync schema show` and `apply`.
enum SchemaPrinter {
    /// One line per entity: name, set name, rows, tracking, keys.
    static func list(_ store: EntityStore) throws -> String {
        var rows = [["ENTITY", "SET", "ROWS", "TRACKING", "KEYS"]]
        for definition in try store.entityDefinitions() {
            rows.append([definition.name, definition.setName, String(try store.count(definition.name)),
                         definition.changeTracking ? "on" : "off",
                         definition.keys.map { "\($0.name)(\($0.columns.joined(separator: ",")))" }.joined(separator: " ")])
        }
        return align(rows)
    }

    /// One entity: header, columns with types, keys with status, state model.
    static func describe(_ definition: EntityDefinition) -> String {
        var lines = ["entity \(definition.name)  (set \(definition.setName), primary id \(definition.primaryIdAttribute), primary name \(definition.primaryNameAttribute ?? "-"))",
                     "change tracking: \(definition.changeTracking ? "enabled" : "disabled")   ownership: \(definition.ownership.rawValue)",
                     "", "columns:"]
        let columns = definition.allAttributes.map { attribute in
            ["  " + attribute.name, typeText(attribute), attribute.isRequired ? "required" : ""]
        }
        lines.append(align(columns))
        lines += ["", "keys:"]
        if definition.keys.isEmpty { lines.append("  (none)") }
        lines.append(contentsOf: definition.keys.isEmpty ? [] : [align(definition.keys.map {
            ["  " + $0.name, $0.columns.joined(separator: ", "), $0.status.rawValue]
        })])
        if definition.hasStateModel {
            lines += ["", "states:"]
            lines.append(align(definition.states.map { state in
                ["  \(state.value) \(state.label)", "default status \(state.defaultStatus)",
                 "statuses: " + state.statuses.map { "\($0.value) \($0.label)" }.joined(separator: ", ")]
            }))
        }
        return lines.joined(separator: "\n")
    }

    /// What `schema apply` changed.
    static func summary(_ changes: SchemaChanges) -> String {
        if changes.isEmpty { return "schema is up to date: nothing to change" }
        var lines: [String] = []
        lines += changes.createdEntities.map { "created entity \($0)" }
        lines += changes.addedColumns.map { "added column \($0)" }
        lines += changes.addedKeys.keys.sorted().map { "added key \($0): \(changes.addedKeys[$0]!.rawValue)" }
        lines += changes.changedSettings.map { "changed \($0)" }
        return lines.joined(separator: "\n")
    }

    private static func typeText(_ attribute: AttributeDefinition) -> String {
        switch attribute.type {
        case .string, .memo: return "\(attribute.type.rawValue)(\(attribute.effectiveMaxLength))"
        case .decimal, .money: return "\(attribute.type.rawValue)(\(attribute.effectivePrecision))"
        case .lookup, .owner: return "\(attribute.type.rawValue) -> \((attribute.targets ?? []).joined(separator: ", "))"
        default: return attribute.type.rawValue
        }
    }

    /// Left-aligns columns of text, two spaces apart, trailing spaces trimmed.
    static func align(_ rows: [[String]]) -> String {
        let widths = rows.reduce(into: [Int]()) { widths, row in
            for (index, cell) in row.enumerated() {
                if index >= widths.count { widths.append(0) }
                widths[index] = max(widths[index], cell.count)
            }
        }
        return rows.map { row in
            row.enumerated().map { index, cell in
                index == row.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
            }.joined(separator: "  ").replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression)
        }.joined(separator: "\n")
    }
}
