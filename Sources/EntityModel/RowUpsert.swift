/// The column names of positional upserts: the key columns and the field columns, in the
/// order their values come. Scripts upsert many records with the same columns; naming them once
/// per shape, instead of once per record, is what keeps a bulk load off dictionaries.
///
/// A shape is immutable and shared; the store compiles it once per entity (see `EntityStore`).
public final class RowShape: Sendable {
    /// The key columns, in the order of `RowUpsert.keyValues`.
    public let keyColumns: [String]
    /// The field columns, in the order of `RowUpsert.values`.
    public let fieldColumns: [String]

    /// Creates a shape; names must be unique within `keyColumns` and within `fieldColumns`.
    public init(keyColumns: [String], fieldColumns: [String]) {
        self.keyColumns = keyColumns
        self.fieldColumns = fieldColumns
    }
}

/// An upsert by alternate key with its values in a shape's column order: the same request as
/// `ServiceRequest.upsert(reference, fields:mode:)` (see `request`), carried without dictionaries.
public struct RowUpsert: Sendable {
    /// The entity's logical name.
    public var entity: String
    /// The column names of `keyValues` and `values`.
    public var shape: RowShape
    /// The key values, one per `shape.keyColumns`.
    public var keyValues: [FieldValue]
    /// The field values, one per `shape.fieldColumns`.
    public var values: [FieldValue]
    /// Create, update or either.
    public var mode: UpsertMode

    /// Creates a positional upsert; `keyValues` and `values` follow `shape`'s columns.
    public init(entity: String, shape: RowShape, keyValues: [FieldValue], values: [FieldValue], mode: UpsertMode) {
        precondition(keyValues.count == shape.keyColumns.count && values.count == shape.fieldColumns.count)
        self.entity = entity
        self.shape = shape
        self.keyValues = keyValues
        self.values = values
        self.mode = mode
    }

    /// The record the upsert addresses.
    public var reference: EntityReference {
        if shape.keyColumns.count == 1 { return EntityReference(entity, key: shape.keyColumns[0], value: keyValues[0]) }
        return EntityReference(entity, keys: Dictionary(zip(shape.keyColumns, keyValues), uniquingKeysWith: { first, _ in first }))
    }

    /// The fields by column name.
    public var fields: [String: FieldValue] {
        Dictionary(zip(shape.fieldColumns, values), uniquingKeysWith: { first, _ in first })
    }

    /// The same upsert in its general form.
    public var request: ServiceRequest { .upsert(reference, fields: fields, mode: mode) }
}
