import EntityModel
import LuaKit

/// `cds.ref(entity, key)`: a reference to a record by GUID or alternate key.
final class ReferenceObject: LuaObject {
    static let luaTypeName = "cds.Reference"
    let reference: EntityReference
    /// The record it points at, when a read expanded the lookup (`ref.code` then reads its columns).
    let related: Record?
    init(_ reference: EntityReference, related: Record? = nil) {
        self.reference = reference
        self.related = related
    }
}

/// `cds.decimal(text)`: an exact decimal value.
final class DecimalObject: LuaObject {
    static let luaTypeName = "cds.Decimal"
    let value: DecimalNumber
    init(_ value: DecimalNumber) { self.value = value }
}

/// `cds.null`: sets a column to null.
final class NullObject: LuaObject {
    static let luaTypeName = "cds.Null"
}

/// Where a write's response lands once its batch has run.
final class ResultBox {
    var response: ServiceResponse?
    var error: ServiceError?
    /// The failed record's key and script line, when `error` is set by a batch.
    var failureKey: String?
    var failureLine: Int?
    var insideTransaction = false
}

/// What a write returns: reading `id`, `created` or `changed` flushes the pending batch.
final class WriteResultObject: LuaObject {
    static let luaTypeName = "cds.Result"
    let box: ResultBox
    init(_ box: ResultBox) { self.box = box }
}
