/// A request for the changes of one entity since a token (RetrieveEntityChanges).
public struct ChangesRequest: Sendable {
    /// The entity.
    public var entity: String
    /// The columns to return (nil = all).
    public var columns: [String]?
    /// The token from the previous sync; nil or empty = initial sync.
    public var token: String?
    /// Items per page (at most 5,000).
    public var pageSize: Int
    /// The paging cookie from the previous page.
    public var pagingCookie: String?
    /// Return no changes, only a token for "now" (start tracking from this point).
    public var tokenOnly: Bool
    /// Related records to read with each page: lookup column → the target's columns to return
    /// (the lookup's value then carries them in `Record.related`). A cdsync extension.
    public var expand: [String: [String]]
    /// Return the new and updated rows as one `RowPage` (`EntityChanges.rows`) rather than a
    /// `Record` each. A service that does not do pages returns records as ever.
    public var asRowPage = false

    /// Creates a request.
    public init(entity: String, columns: [String]? = nil, token: String? = nil, pageSize: Int = 5000,
                pagingCookie: String? = nil, tokenOnly: Bool = false, expand: [String: [String]] = [:]) {
        self.expand = expand
        self.entity = entity
        self.columns = columns
        self.token = token
        self.pageSize = pageSize
        self.pagingCookie = pagingCookie
        self.tokenOnly = tokenOnly
    }
}

/// One change: a new or updated record, or a removed one.
public enum ChangeItem: Sendable {
    /// A new or updated record, with its latest values.
    case newOrUpdated(Record)
    /// A deleted record.
    case removedOrDeleted(EntityReference)
}

/// A page of changes (BusinessEntityChanges).
public struct EntityChanges: Sendable {
    /// The changes: new/updated rows in version order, then deletions.
    public var changes: [ChangeItem]
    /// True while more pages follow.
    public var moreRecords: Bool
    /// The cookie for the next page.
    public var pagingCookie: String?
    /// The new token; only on the last page.
    public var dataToken: String?
    /// The alternate-key values deleted records had, by id (a cdsync extension; when known).
    public var deletedKeys: [RecordID: [String: String]]
    /// The new and updated rows, when the request asked for a page and the service gave one:
    /// they come before `changes`, which then holds the deletions only.
    public var rows: RowPage?

    /// Creates a page.
    public init(changes: [ChangeItem], moreRecords: Bool, pagingCookie: String?, dataToken: String?,
                deletedKeys: [RecordID: [String: String]] = [:], rows: RowPage? = nil) {
        self.rows = rows
        self.changes = changes
        self.moreRecords = moreRecords
        self.pagingCookie = pagingCookie
        self.dataToken = dataToken
        self.deletedKeys = deletedKeys
    }
}
