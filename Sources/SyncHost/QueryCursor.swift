import EntityModel
import LuaKit

/// `for row in cds.rows(entity, {filter, select, orderby, page_size})`: streams a query's
/// rows page by page, so a script can walk a large table without holding it in memory.
final class QueryCursor: LuaObject {
    static let luaTypeName = "cds.Rows"

    private let session: SyncSession
    private var query: Query
    private var page: [Record] = []
    private var position = 0
    private var finished = false

    private init(session: SyncSession, query: Query) {
        self.session = session
        self.query = query
    }

    func luaClose() {
        finished = true
        page = []
    }

    /// The binding: builds the cursor and returns the generic-for values.
    static func open(_ ctx: LuaCallContext, _ session: SyncSession) throws -> Int32 {
        var query = try CdsQuery.parse(ctx, entity: try ctx.stringArgument(1), options: 2, pageSize: true)
        if let options = try ctx.optionalTableArgument(2), let size = ctx.integer(field: "page_size", in: options) {
            query.pageSize = Int(size)
        }
        try session.queue.flush()
        return try ctx.returnIterator(over: QueryCursor(session: session, query: query))
    }

    /// The iterator's `next`: one record table, or nil at the end.
    static func nextRow(_ ctx: LuaCallContext) throws -> Int32 {
        let cursor = try ctx.objectArgument(1, as: QueryCursor.self)
        guard let record = try cursor.nextRecord() else { ctx.pushNil(); return 1 }
        LuaConversions.pushRecord(ctx, record)
        return 1
    }

    private func nextRecord() throws -> Record? {
        while position >= page.count {
            if finished { return nil }
            guard case .records(let result) = try session.read(.retrieveMultiple(query)) else { finished = true; return nil }
            page = result.records
            position = 0
            query.pagingCookie = result.pagingCookie
            finished = !result.moreRecords
        }
        defer { position += 1 }
        return page[position]
    }
}
