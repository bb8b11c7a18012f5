import EntityModel

/// The statecode/statuscode rules of SPEC §4: statecode alone takes that state's default
/// status; a statuscode must belong to the state; statuscode alone must fit the current state.
enum StateRules {
    /// The (statecode, statuscode) a write ends with, or nil when it touches neither.
    /// - Throws: `0x80048408` for an unknown state or a status of another state.
    static func resolve(state: Int64?, status: Int64?, current: (state: Int64, status: Int64)?,
                        model: [StateOption], entity: String) throws -> (state: Int64, status: Int64)? {
        if state == nil && status == nil {
            if current != nil { return nil }
            guard let first = model.first else { return nil }
            return (first.value, first.defaultStatus)
        }
        let targetState = state ?? current?.state ?? model.first?.value ?? 0
        guard let option = model.first(where: { $0.value == targetState }) else { throw invalid(entity) }
        let targetStatus = status ?? option.defaultStatus
        guard option.statuses.contains(where: { $0.value == targetStatus }) else { throw invalid(entity) }
        return (targetState, targetStatus)
    }

    private static func invalid(_ entity: String) -> ServiceError {
        ServiceError(.invalidStateCodeStatusCode,
            "State code is invalid or state code is valid but status code is invalid for a specified state code.",
            entity: entity)
    }
}
