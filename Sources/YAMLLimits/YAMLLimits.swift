import CYaml

/// Limits on YAML a person or a tool hands cdsync (schema files, jobs files), and keys given
/// twice in one mapping (YAML readers keep the last, silently), checked with
/// libyaml's event parser (which keeps its own stack, so any nesting is safe to scan) before
/// the text is built into nodes: deep nesting would overflow the stack of the recursive node
/// building (a 10 KB file of 5,000 `[` crashed it), and aliases to aliases expand
/// geometrically (a 3 KB file of three levels would build hundreds of millions of nodes).
public enum YAMLLimits {
    /// More nesting than any schema or jobs file has (theirs is under 10 levels).
    public static let maxDepth = 64
    /// Nodes after aliases are expanded: a schema of 2,000 entities with 50 columns of 10 keys
    /// each is a million.
    public static let maxNodes = 2_000_000

    /// Why the text goes past a limit or gives a key twice, or nil when it does neither. Text libyaml cannot
    /// parse is left to the YAML reader, which reports the syntax error with its place.
    public static func violation(in text: String, maxDepth: Int = maxDepth, maxNodes: Int = maxNodes) -> String? {
        var bytes = Array(text.utf8)
        if bytes.isEmpty { return nil }
        return bytes.withUnsafeMutableBufferPointer { buffer -> String? in
            var parser = yaml_parser_t()
            guard yaml_parser_initialize(&parser) == 1 else { return nil }
            defer { yaml_parser_delete(&parser) }
            yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
            var depth = 0, nodes = 0
            // the expanded size of each anchored node, and the open collections' anchors
            var anchored: [String: Int] = [:]
            var open: [(anchor: String?, nodesBefore: Int)] = []
            // for each open collection: nil for a sequence; for a mapping, whether the next
            // node is a key, and the keys so far (a key given twice: the last one would win)
            var mappings: [(expectsKey: Bool, keys: Set<String>)?] = []
            var event = yaml_event_t()
            while yaml_parser_parse(&parser, &event) == 1 {
                defer { yaml_event_delete(&event) }
                let startsNode = [YAML_SCALAR_EVENT, YAML_ALIAS_EVENT, YAML_SEQUENCE_START_EVENT, YAML_MAPPING_START_EVENT].contains(event.type)
                if startsNode, let last = mappings.indices.last, var mapping = mappings[last] {
                    if mapping.expectsKey, event.type == YAML_SCALAR_EVENT, let value = event.data.scalar.value {
                        let key = String(cString: value)
                        if !mapping.keys.insert(key).inserted {
                            return "the key '\(key)' is given twice in one mapping (line \(event.start_mark.line + 1)); the first would be ignored"
                        }
                    }
                    mapping.expectsKey.toggle()
                    mappings[last] = mapping
                }
                switch event.type {
                case YAML_STREAM_END_EVENT:
                    return nil
                case YAML_SEQUENCE_START_EVENT, YAML_MAPPING_START_EVENT:
                    depth += 1
                    nodes += 1
                    if depth > maxDepth { return "the YAML nests deeper than \(maxDepth) levels (line \(event.start_mark.line + 1))" }
                    let anchor = event.type == YAML_SEQUENCE_START_EVENT ? event.data.sequence_start.anchor : event.data.mapping_start.anchor
                    open.append((anchor.map { String(cString: $0) }, nodes - 1))
                    mappings.append(event.type == YAML_MAPPING_START_EVENT ? (true, []) : nil)
                case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
                    depth -= 1
                    mappings.removeLast()
                    if let (anchor, before) = open.popLast(), let anchor { anchored[anchor] = nodes - before }
                case YAML_SCALAR_EVENT:
                    nodes += 1
                    if let anchor = event.data.scalar.anchor { anchored[String(cString: anchor)] = 1 }
                case YAML_ALIAS_EVENT:
                    let size = event.data.alias.anchor.flatMap { anchored[String(cString: $0)] } ?? 1
                    nodes = nodes > maxNodes - size ? maxNodes + 1 : nodes + size
                default:
                    break
                }
                if nodes > maxNodes {
                    return "the YAML holds more than \(maxNodes) values once its aliases are expanded (line \(event.start_mark.line + 1))"
                }
            }
            return nil
        }
    }
}
