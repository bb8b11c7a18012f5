import EntityModel
import Foundation
import LuaKit

/// `for change in cds.changes(entity, {columns, token, on_expired, page_size})`: iterates the
/// changes since the token saved under a name. The new token is kept only when the loop runs
/// to the end, and saved only when the run's writes have been sent (end of run or checkpoint).
final class ChangeCursor: LuaObject {
    static let luaTypeName = "cds.Changes"

    private let session: SyncSession
    private var request: ChangesRequest
    private let tokenName: String?
    private let resyncWhenExpired: Bool
    /// The page's new and updated rows (from a local store), then its other changes.
    private var rows: RowPage?
    private var page: [ChangeItem] = []
    private var deletedKeys: [RecordID: [String: String]] = [:]
    /// The next change: rows first, then `page` (positions past `rows.count`).
    private var position = 0
    private var finished = false
    /// The next page, read while the script works on the current one.
    private var nextPage: WriteQueue.PendingRead?
    /// `WriteQueue.writesQueued` when the next page was read ahead: if the loop body wrote
    /// since, the page is read again, so what the loop delivers never depends on the read-ahead.
    private var writesAtReadAhead = 0
    private var finalToken: String?
    /// The current row page's column names, then its entity, as C strings (`FixedNames`), and
    /// that page (set with `rows`, which keeps it alive: the same identity is the same page).
    private var rowNames: FixedNames?
    private var rowNamesPage: ObjectIdentifier?
    /// The page whose shared references (one per related record read by id: a page's rows
    /// pointing at the same region get the same `cds.Reference`) are in the table the cursor's
    /// userdata keeps as its user value. Held, so that no later page can have its identity.
    private var referencesPage: RowPage?
    /// The fields of a row's change table.
    private static let changeFields = FixedNames(["entity", "id", "deleted", "record"])
    /// True when the saved token had expired and the loop restarted as a full sync.
    private(set) var resynced = false

    /// The page size asked for. With a local store the first pages are smaller
    /// (`firstPageSize`, then four times as large each time), so the script starts sooner while
    /// the next, larger page is read; over the network every page costs a round trip (and an
    /// expansion request), so pages are full from the start.
    private let fullPageSize: Int
    static let firstPageSize = 500

    private init(session: SyncSession, request: ChangesRequest, tokenName: String?, resyncWhenExpired: Bool) {
        self.session = session
        fullPageSize = max(request.pageSize, 1)
        var request = request
        request.pageSize = session.service is RequestCounting ? fullPageSize : min(fullPageSize, Self.firstPageSize)
        // rows as one page of values, turned into Lua tables here without a record each
        request.asRowPage = true
        self.request = request
        self.tokenName = tokenName
        self.resyncWhenExpired = resyncWhenExpired
    }

    /// Closing early (`break`, an error) drops the page and never records the token.
    func luaClose() {
        finished = true
        finalToken = nil
        rows = nil
        page = []
        nextPage = nil  // a read still running finishes on the worker and is dropped
    }

    /// The binding: builds the cursor and returns the generic-for values.
    static func open(_ ctx: LuaCallContext, _ session: SyncSession) throws -> Int32 {
        let entity = try ctx.stringArgument(1)
        var request = ChangesRequest(entity: entity)
        var tokenName: String?
        var resync = false
        var full = false
        if let options = try ctx.optionalTableArgument(2) {
            try OptionsCheck.check(ctx, table: options, argument: 2, [
                "columns": .stringList, "token": .string, "page_size": .positiveInteger, "expand": .table, "on_expired": .string,
                "full": .boolean,
            ])
            if ctx.type(ofField: "columns", in: options) == .table { request.columns = ctx.value(field: "columns", in: options).arrayStrings }
            if ctx.pushField("token", in: options) == .string {
                // (a name cut at a NUL, or repaired, would be another token's)
                defer { ctx.pop() }
                guard let name = ctx.name(at: -1) else { throw LuaError.argument(2, "the token name must be UTF-8 text without NUL characters") }
                tokenName = name
            } else {
                ctx.pop()
            }
            if let size = ctx.integer(field: "page_size", in: options) { request.pageSize = Int(size) }
            request.expand = try CdsQuery.expand(ctx, options: options, argument: 2)
            switch ctx.string(field: "on_expired", in: options) ?? "error" {
            case "error": resync = false
            case "resync": resync = true
            case let other: throw LuaError.argument(2, "on_expired must be \"error\" or \"resync\", got \"\(other)\"")
            }
            full = ctx.bool(field: "full", in: options) ?? false
        }
        if let tokenName { try session.checkTokenName(tokenName, tracks: entity) }
        if let tokenName, !full, let saved = try session.tokens.token(named: tokenName) {
            guard saved.entity == entity else {
                throw LuaError.argument(2, "the token '\(tokenName)' tracks '\(saved.entity)', not '\(entity)'")
            }
            request.token = saved.token
        }
        try session.queue.flush()
        let cursor = ChangeCursor(session: session, request: request, tokenName: tokenName, resyncWhenExpired: resync)
        // one user value: the current page's shared references (see `referencesPage`)
        return try ctx.returnIterator(over: cursor, userValues: 1)
    }

    /// The iterator's `next`: one change table, or nil at the end.
    static func nextChange(_ ctx: LuaCallContext) throws -> Int32 {
        let cursor = try ctx.objectArgument(1, as: ChangeCursor.self)
        guard let item = try cursor.nextItem() else { ctx.pushNil(); return 1 }
        let keys = cursor.deletedKeys
        let table = ctx.pushNewTable(fieldCapacity: 4)
        switch item {
        case .row(let page, let row):
            let fields = Self.changeFields
            let names = cursor.rowNamesPage == ObjectIdentifier(page) ? cursor.rowNames : nil
            if let names { names.push(ctx, page.columns.count) } else { ctx.push(page.entity) }
            fields.setField(ctx, 0, in: table)
            ctx.push(page.ids[row]?.description); fields.setField(ctx, 1, in: table)
            ctx.push(false); fields.setField(ctx, 2, in: table)
            let references = cursor.pushSharedReferences(ctx, for: page)
            LuaConversions.pushRow(ctx, page, row, names: names, sharedReferences: references); fields.setField(ctx, 3, in: table)
            ctx.pop()  // the shared references
        case .change(.newOrUpdated(let record)):
            ctx.push(record.entity); ctx.setField("entity", in: table)
            ctx.push(record.id?.description); ctx.setField("id", in: table)
            ctx.push(false); ctx.setField("deleted", in: table)
            LuaConversions.pushRecord(ctx, record); ctx.setField("record", in: table)
        case .change(.removedOrDeleted(let reference)):
            ctx.push(reference.entity); ctx.setField("entity", in: table)
            ctx.push(reference.id?.description); ctx.setField("id", in: table)
            ctx.push(true); ctx.setField("deleted", in: table)
            if let id = reference.id, let key = keys[id] {
                ctx.push(LuaValue.record(key.mapValues(LuaValue.string))); ctx.setField("key", in: table)
            }
        }
        return 1
    }

    /// Pushes the table of `page`'s shared references (the cursor's user value, a new one for
    /// a new page) and returns its index. The cursor must be argument 1.
    private func pushSharedReferences(_ ctx: LuaCallContext, for page: RowPage) -> Int32 {
        if referencesPage === page {
            if ctx.pushUserValue(1, of: 1) == .table { return ctx.top }
            ctx.pop()
        }
        _ = ctx.pushNewTable()
        ctx.pushCopy(of: -1)
        ctx.setUserValue(1, of: 1)
        referencesPage = page
        return ctx.top
    }

    /// The binding `cds.start_tracking(entity, token_name)`: records a token for "now" without
    /// reading any rows; like other tokens it is saved when the run's writes are sent.
    static func startTracking(_ ctx: LuaCallContext, _ session: SyncSession) throws -> Int32 {
        let entity = try ctx.stringArgument(1)
        let name = try ctx.nameArgument(2, what: "token name")
        try session.checkTokenName(name, tracks: entity)
        guard case .changes(let changes) = try session.read(.retrieveChanges(ChangesRequest(entity: entity, tokenOnly: true))),
              let token = changes.dataToken else { return 0 }
        // as cds.changes refuses it: moving a token to another entity would make the next
        // loop over its own entity fail
        if let saved = try session.tokens.token(named: name), saved.entity != entity {
            throw LuaError.argument(2, "the token '\(name)' tracks '\(saved.entity)', not '\(entity)' (cdsync tokens reset \(name) frees the name)")
        }
        session.pendingTokens[name] = SavedToken(name: name, token: token, entity: entity, updatedAt: Date())
        return 0
    }

    /// A change of the current page: a row of its row page, or one of its other changes.
    private enum Item {
        case row(RowPage, Int)
        case change(ChangeItem)
    }

    private func nextItem() throws -> Item? {
        while position >= (rows?.count ?? 0) + page.count {
            if finished {
                if let tokenName, let token = finalToken {
                    session.pendingTokens[tokenName] = SavedToken(name: tokenName, token: token, entity: request.entity, updatedAt: Date())
                    finalToken = nil
                }
                return nil
            }
            try loadPage()
        }
        defer { position += 1 }
        if let rows, position < rows.count { return .row(rows, position) }
        return .change(page[position - (rows?.count ?? 0)])
    }

    private func loadPage() throws {
        let response: ServiceResponse
        do {
            if let nextPage, session.queue.writesQueued == writesAtReadAhead {
                self.nextPage = nil
                response = try nextPage.wait()
            } else {
                if let nextPage {
                    self.nextPage = nil
                    _ = try? nextPage.wait()  // read before the loop body's writes: dropped
                }
                response = try session.read(.retrieveChanges(request))
            }
        } catch let error as ServiceError where error.code == .expiredVersionStamp && resyncWhenExpired && request.token != nil {
            request.token = nil
            request.pagingCookie = nil
            resynced = true
            return try loadPage()
        }
        guard case .changes(let changes) = response else { finished = true; return }
        // the page just used is freed off the script's path (thousands of records or rows;
        // related rows live on while the script keeps a reference that reads them)
        var used: [ChangeItem] = []
        swap(&used, &page)
        WriteQueue.releaseLater(consume used)
        if let usedRows = rows.take() { WriteQueue.releaseLater(usedRows) }
        rows = changes.rows
        if let rows {
            // the names once per page (pages of the same columns share them)
            let names = rows.columns + [rows.entity]
            if rowNames?.names != names { rowNames = FixedNames(names) }
            rowNamesPage = ObjectIdentifier(rows)
        } else {
            rowNamesPage = nil
        }
        page = changes.changes
        deletedKeys = changes.deletedKeys
        position = 0
        if changes.moreRecords {
            request.pagingCookie = changes.pagingCookie
            // (compared before multiplying: page_size may be any integer a script passes)
            request.pageSize = request.pageSize >= fullPageSize / 4 ? fullPageSize : request.pageSize * 4
            // the page's watermark is fixed, so the next page can be read while this one is used
            nextPage = try session.startRead(.retrieveChanges(request))
            writesAtReadAhead = session.queue.writesQueued
        } else {
            finished = true
            finalToken = changes.dataToken
        }
    }
}
