import Foundation
import EntityModel
import LuaKit

/// `cds.ref(entity, key)`: a reference to a record by GUID or alternate key.
final class ReferenceObject: LuaObject {
    static let luaTypeName = "cds.Reference"
    let reference: EntityReference
    /// The record it points at, when a read expanded the lookup (`ref.code` then reads its
    /// columns): a record, or the row of a page that holds it (a change loop's).
    let related: Related?

    enum Related {
        case record(Record)
        case row(RowPage, Int)
    }

    init(_ reference: EntityReference, related: Related? = nil) {
        self.reference = reference
        self.related = related
    }

    /// A column of the record it points at; nil when the lookup was not expanded or the
    /// record does not carry the column.
    func relatedValue(_ column: String) -> FieldValue? {
        switch related {
        case .record(let record)?: return record.fields[column]
        case .row(let page, let row)?: return page.value(row: row, column: column)
        case nil: return nil
        }
    }

    /// `relatedValue` for a column named by its UTF-8 bytes (a Lua string's, read in place):
    /// a page's few columns are compared by their bytes, not hashed.
    func relatedValue(named name: UnsafeRawBufferPointer) -> FieldValue? {
        switch related {
        case .row(let page, let row)?:
            for index in page.columns.indices {
                let column = page.columns[index].utf8
                let same = column.withContiguousStorageIfAvailable { bytes in
                    bytes.count == name.count && (name.isEmpty || memcmp(bytes.baseAddress!, name.baseAddress!, name.count) == 0)
                } ?? column.elementsEqual(name)
                if same { return page.value(row: row, column: index) }
            }
            return nil
        case .record?:
            return relatedValue(String(decoding: name, as: UTF8.self))
        case nil:
            return nil
        }
    }
}

/// `cds.decimal(text)`: an exact decimal value, held inside its userdata (no finalizer).
extension DecimalNumber: LuaInlineValue {
    public static let luaTypeName = "cds.Decimal"
}

/// `cds.null`: sets a column to null.
final class NullObject: LuaObject {
    static let luaTypeName = "cds.Null"
}

/// What a write returns, and where its response lands once its batch has run: reading
/// `id`, `created` or `changed` flushes the pending batch. (One object per write: it is both
/// the script's userdata and the queue's slot.)
final class ResultBox: LuaObject {
    static let luaTypeName = "cds.Result"
    var response: ServiceResponse?
    var error: ServiceError?
    /// The failed record's key and script line, when `error` is set by a batch.
    var failureKey: String?
    var failureLine: Int?
    var insideTransaction = false
    /// The REPL statement that made the write (`WriteQueue.statement`), whose rollback takes it back.
    var statement = 0
}

