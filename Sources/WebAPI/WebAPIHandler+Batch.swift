import EntityModel
import Foundation

extension WebAPIHandler {
    func batch(_ call: Call) throws -> APIResponse {
        throw ServiceError(.notImplemented, "$batch is not implemented yet.")
    }

    func bulk(_ call: Call, _ definition: EntityDefinition, action: String) throws -> APIResponse {
        throw ServiceError(.notImplemented, "\(action) is not implemented yet.")
    }
}
