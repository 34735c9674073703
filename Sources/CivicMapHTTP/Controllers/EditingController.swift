import CivicMapCore
import Foundation
import Hummingbird
import NIOCore
import Synchronization

/// The write API (OGC API – Features Part 4 style): POST, PUT, PATCH and DELETE on items, for
/// holders of a bearer token; and `/audit` (admins all of it, other tokens their own entries).
/// Reads stay public and never look here.
struct EditingController {
    let source: any FeatureSource
    let editor: any FeatureEditor
    /// One import at a time: they take turns for the write lock anyway, and each holds its
    /// file's rows in memory meanwhile.
    private let importing = ImportTurn()
    let baseURL: BaseURL

    /// A Feature is a few kilobytes; a megabyte is room for long descriptions and programmes.
    static let maximumBodyBytes = 1 << 20
    static let featureTypes = ["application/geo+json", "application/json"]
    static let patchTypes = ["application/merge-patch+json", "application/json", "application/geo+json"]
    static let importPath = "/import"
    static let revertPath = "/audit/:entryId/revert"
    /// Writes that cannot stop halfway once they begin (an import, the revert of one): the request
    /// time limit must not answer 503 for a change they then commit.
    static func cannotStopHalfway(_ path: String) -> Bool {
        path == importPath || (path.hasPrefix("/audit/") && path.hasSuffix("/revert"))  // revertPath's
    }
    static let importTypes = ["text/csv", "application/geo+json", "application/json"]
    /// About 60,000 rows of CSV: a region's list, not the national one (that is `civicmap import`'s).
    static let maximumImportBytes = 16 << 20
    /// Lines of a CSV body, read before it is parsed: 16 MiB of empty rows would be 4 million.
    static let maximumImportRows = 100_000

    func addRoutes(to router: RouteTable) {
        router.post("/collections/:collectionId/items", use: create)
        router.put("/collections/:collectionId/items/:featureId", use: replace)
        router.patch("/collections/:collectionId/items/:featureId", use: update)
        router.delete("/collections/:collectionId/items/:featureId", use: delete)
        router.get("/audit", use: audit)
        router.post(RouterPath(Self.importPath), use: importOrganisations)
        router.post(RouterPath(Self.revertPath), use: revert)
    }

    @Sendable func create(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let (editor, kinds, collection) = try await authorise(request, context: context)
        let body = try await json(request, types: Self.featureTypes)
        if let feature = body as? [String: Any], feature["id"] != nil {
            throw CivicMapError.invalidRecords([FieldProblem(line: 1, field: "id", reason: "is assigned by the server; leave it out")])
        }
        let edited = try await self.editor.apply(.create(try ImportReader.feature(body)), by: editor, ifMatch: nil, kinds: kinds)
        var response = try featureResponse(edited, request: request, collection: collection, status: .created)
        response.headers[.location] = "\(baseURL(request))/collections/\(collection)/items/\(edited.id)"
        return response
    }

    @Sendable func replace(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let (editor, kinds, collection) = try await authorise(request, context: context)
        let id = try featureID(context, collection: collection)
        let ifMatch = request.headers[.ifMatch]
        let body = try await json(request, types: Self.featureTypes)
        try requireSameID(body, id)
        let edited = try await self.editor.apply(.replace(id: id, try ImportReader.feature(body)), by: editor, ifMatch: ifMatch, kinds: kinds)
        return try featureResponse(edited, request: request, collection: collection, status: .ok)
    }

    /// JSON Merge Patch (RFC 7396) on the Feature as GET shows it: `{"properties": {"phone": null}}`
    /// removes the phone. The merged Feature is validated whole.
    @Sendable func update(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let (editor, kinds, collection) = try await authorise(request, context: context)
        let id = try featureID(context, collection: collection)
        let patch = try await json(request, types: Self.patchTypes)
        guard patch is [String: Any] else {
            throw CivicMapError.invalidRecords([FieldProblem(line: 1, field: "*", reason: "a merge patch must be a JSON object")])
        }
        // `If-Match: *` accepts any version: a change between the read and the write is merged
        // again rather than refused (at most three times).
        for attempt in 1...3 {
            guard let stored = try await source.feature(id: id), kinds.contains(stored.kind) else {
                throw CivicMapError.notFound("feature '\(id)' in collection '\(collection)'")
            }
            let storedTag = EntityTag.of(stored.bytes)
            try EntityTag.check(ifMatch: request.headers[.ifMatch], stored: storedTag, organisation: id)
            let merged = JSONMergePatch.apply(patch, to: try JSONMergePatch.editableFeature(stored.bytes, patch: patch))
            try requireSameID(merged, id)
            do {
                // The tag of the version patched, so a change in between is refused, not overwritten.
                let edited = try await self.editor.apply(.update(id: id, try ImportReader.feature(merged)), by: editor, ifMatch: storedTag, kinds: kinds)
                return try featureResponse(edited, request: request, collection: collection, status: .ok)
            } catch CivicMapError.preconditionFailed(let why) where request.headers[.ifMatch] == "*" {
                if attempt == 3 { throw CivicMapError.preconditionFailed(why) }
            }
        }
        throw CivicMapError.preconditionFailed("organisation \(id) kept changing; try again")
    }

    @Sendable func delete(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let (editor, kinds, collection) = try await authorise(request, context: context)
        let id = try featureID(context, collection: collection)
        _ = try await self.editor.apply(.delete(id: id), by: editor, ifMatch: request.headers[.ifMatch], kinds: kinds)
        return Response(status: .noContent)
    }

    /// The audit log, newest first. Admins read all of it; other tokens their own entries, so
    /// that an editor finds the number of a change to revert (other tokens' names stay hidden).
    @Sendable func audit(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let editor = try await authenticate(request)
        let parameters = try QueryParameters.parse(request)
        let values = try FeatureQueryParser.uniqueValues(parameters, allowed: ["f", "organization", "actor", "action", "since", "until", "limit", "offset"])
        _ = try Format.negotiate(request, parameters: parameters)
        var query = AuditQuery()
        if let v = values["organization"] { query.organisationID = Int64(try FeatureQueryParser.integer(v, name: "organization", minimum: 1)) }
        if let v = values["actor"] {
            guard (1...100).contains(v.count) else { throw CivicMapError.invalidParameter(name: "actor", reason: "must be 1 to 100 characters") }
            query.actor = v
        }
        if editor.role != .admin {
            guard query.actor == nil || query.actor == editor.name else {
                throw CivicMapError.forbidden("token '\(editor.name)' sees its own audit entries only; admin tokens see every actor's")
            }
            query.actor = editor.name
        }
        if let v = values["action"] { query.action = try AuditQuery.action(v) }
        if let v = values["since"] { query.since = try AuditQuery.time(v, name: "since") }
        if let v = values["until"] { query.until = try AuditQuery.time(v, name: "until") }
        if let v = values["limit"] { query.limit = min(1000, try FeatureQueryParser.limit(v)) }
        if let v = values["offset"] { query.offset = try FeatureQueryParser.integer(v, name: "offset", minimum: 0) }
        let page = try await self.editor.auditLog(query)
        var w = JSONWriter(capacity: 4096)
        w.beginObject()
        w.key("numberMatched"); w.int(page.numberMatched)
        w.key("numberReturned"); w.int(page.entries.count)
        Responses.pagingLinks(&w, url: "\(baseURL(request))/audit", parameters: parameters, limit: query.limit, offset: query.offset,
                              returned: page.entries.count, matched: page.numberMatched, type: Responses.json)
        w.key("entries"); w.beginArray()
        for e in page.entries {
            w.beginObject()
            Self.writeHead(of: e, to: &w)
            if let reverted = e.reverts { w.key("reverts"); w.int(reverted) }
            w.key("before"); if let b = e.before { w.encoded(b) } else { w.null() }
            w.key("after"); if let a = e.after { w.encoded(a) } else { w.null() }
            w.endObject()
        }
        w.endArray()
        w.endObject()
        return Responses.json(w)
    }

    /// A CSV or GeoJSON file of organisations, imported as `civicmap import` imports it: by
    /// default all or nothing (422 naming every problem), `partial=true` for the valid rows,
    /// `dry_run=true` to see what it would do, `changes=true` to list each update, old → new.
    /// A token scoped to a region imports that region's organisations only.
    @Sendable func importOrganisations(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let parameters = try QueryParameters.parse(request)
        let values = try FeatureQueryParser.uniqueValues(parameters, allowed: ["f", "dry_run", "partial", "changes"])
        _ = try Format.negotiate(request, parameters: parameters)
        let editor = try await authenticate(request)
        let type = try mediaType(request, of: Self.importTypes)
        let options = ImportOptions(partial: try Matching.flag(values["partial"], name: "partial") ?? false,
                                    dryRun: try Matching.flag(values["dry_run"], name: "dry_run") ?? false,
                                    listsChanges: try Matching.flag(values["changes"], name: "changes") ?? false)
        let bytes = try await body(request, upTo: Self.maximumImportBytes)
        if type == "text/csv", case let lines = bytes.count(where: { $0 == 0x0A }), lines > Self.maximumImportRows {
            throw Problem.tooLarge("\(lines) lines; at most \(Self.maximumImportRows) rows per request (the national list is civicmap import's)")
        }
        guard importing.take() else { throw Self.busy }
        defer { importing.give() }
        let input = ImportInput(name: type == "text/csv" ? "upload.csv" : "upload.geojson", bytes: bytes)
        let summary = try await self.editor.importOrganisations(input, options: options, by: editor)
        if summary.rolledBack && !options.dryRun {
            throw Problem(status: .unprocessableContent, type: "invalid-records", title: "Invalid records",
                          detail: "\(summary.problems.count) problem(s) in \(summary.rejected) row(s); nothing was written (partial=true writes the valid rows)") { w in
                ImportReportJSON.members(summary, options: options, to: &w)
            }
        }
        var w = JSONWriter(capacity: 1024)
        w.beginObject()
        ImportReportJSON.members(summary, options: options, to: &w)
        w.endObject()
        return Responses.json(w)
    }

    /// Undoes an audit entry as `civicmap revert` does: one change, or a whole import (a
    /// coordinator's wrong file). Admins may revert any entry, other tokens their own only.
    @Sendable func revert(_ request: Request, context: BasicRequestContext) async throws -> Response {
        try QueryParameters.requireOnlyFormat(request)
        let editor = try await authenticate(request)
        let raw = (context.parameters.get("entryId") ?? "").removingPercentEncoding ?? ""
        guard let entry = Int64(raw), entry > 0 else {
            throw CivicMapError.invalidParameter(name: "entryId", reason: "'\(raw)' is not an audit entry's id (a positive integer)")
        }
        // Imports and reverts take the same turns: each may write many organisations.
        guard importing.take() else { throw Self.busy }
        defer { importing.give() }
        let outcome = try await self.editor.revert(auditEntry: entry, by: editor)
        var w = JSONWriter(capacity: 256)
        w.beginObject()
        w.key("reverted"); w.beginObject()
        Self.writeHead(of: outcome.entry, to: &w)
        w.endObject()
        w.key("revert_entry"); w.int(outcome.revertEntry)
        w.key("removed"); w.int(outcome.removed)
        w.key("restored"); w.int(outcome.restored)
        w.key("revived"); w.int(outcome.revived)
        w.endObject()
        return Responses.json(w)
    }

    /// What an audit entry is, without its versions: in `/audit` and in a revert's answer.
    private static func writeHead(of e: AuditEntry, to w: inout JSONWriter) {
        w.key("id"); w.int(e.id)
        w.key("at"); w.string(e.at)
        w.key("actor"); w.string(e.actor)
        w.key("action"); w.string(e.action)
        w.key("organization_id"); if let o = e.organisationID { w.int(o) } else { w.null() }
    }

    private static let busy = Problem(
        status: .serviceUnavailable, type: "busy", title: "Another import or revert is running",
        detail: "imports and reverts take turns; send it again when the running one has finished", headers: [.retryAfter: "10"])

    // MARK: - The steps every change shares

    /// Who asks, and the kinds the collection holds (the regions collection is read-only).
    private func authorise(_ request: Request, context: BasicRequestContext) async throws -> (Editor, [OrganisationKind], String) {
        try QueryParameters.requireOnlyFormat(request)
        let editor = try await authenticate(request)
        let id = context.parameters.get("collectionId") ?? ""
        let collection = try Catalog(kinds: try await source.kinds()).collection(id)
        guard let kinds = collection.kinds else {
            throw Problem(status: .methodNotAllowed, type: "read-only", title: "Read-only collection",
                          detail: "regions come from the bundled data (civicmap init), not from the API", headers: [.allow: "GET, HEAD"])
        }
        return (editor, kinds, collection.id)
    }

    private func authenticate(_ request: Request) async throws -> Editor {
        guard let header = request.headers[.authorization] else {
            throw CivicMapError.unauthenticated("changes need a bearer token: Authorization: Bearer <token> (made with civicmap token create)")
        }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer", (1...200).contains(parts[1].count) else {
            throw CivicMapError.unauthenticated("expected Authorization: Bearer <token>")
        }
        guard let editor = try await editor.editor(forToken: String(parts[1]).trimmedText) else {
            throw CivicMapError.unauthenticated("the token is unknown")
        }
        return editor
    }

    private func featureID(_ context: BasicRequestContext, collection: String) throws -> Int64 {
        let raw = context.parameters.get("featureId") ?? ""
        guard let id = Int64(raw), id > 0, String(id) == raw else { throw CivicMapError.notFound("feature '\(raw)' in collection '\(collection)'") }
        return id
    }

    private func requireSameID(_ body: Any, _ id: Int64) throws {
        guard let given = (body as? [String: Any])?["id"] else { return }
        guard "\(given)" == String(id) else {
            throw CivicMapError.invalidRecords([FieldProblem(line: 1, field: "id", reason: "is \(given), but the URL names \(id); an id cannot change")])
        }
    }

    /// The body's media type, when it is one of `types` (415 otherwise).
    private func mediaType(_ request: Request, of types: [String]) throws -> String {
        let type = (request.headers[.contentType] ?? "").split(separator: ";").first.map { String($0).trimmedText.lowercased() } ?? ""
        guard types.contains(type) else {
            throw Problem(status: .unsupportedMediaType, type: "unsupported-media-type", title: "Unsupported media type",
                          detail: "send the body as \(types.joined(separator: " or "))", headers: [.accept: types.joined(separator: ", ")])
        }
        return type
    }

    /// The body as JSON, once its media type is one this endpoint reads and it fits the limit.
    private func json(_ request: Request, types: [String]) async throws -> Any {
        _ = try mediaType(request, of: types)
        return try ImportReader.json(try await body(request, upTo: Self.maximumBodyBytes))
    }

    /// The body, or a 413 that names the limit (NIO's error gives its buffer's size instead).
    private func body(_ request: Request, upTo limit: Int) async throws -> [UInt8] {
        do {
            return Array(try await request.body.collect(upTo: limit).readableBytesView)
        } catch is NIOTooManyBytesError {
            throw Problem.tooLarge("the body exceeds the limit of \(limit >> 20) MiB (\(limit) bytes)")
        }
    }

    private func featureResponse(_ edited: EditedFeature, request: Request, collection: String, status: HTTPResponse.Status) throws -> Response {
        guard let feature = edited.feature, let tag = edited.entityTag else { throw CivicMapError.notFound("organisation \(edited.id)") }
        var response = Responses.feature(feature.bytes, base: baseURL(request), collection: collection, id: String(edited.id), status: status)
        response.headers[.eTag] = tag
        return response
    }
}

/// An import's outcome as JSON: the answer of `POST /import`, and the members of its 422.
enum ImportReportJSON {
    static let listed = 10_000

    static func members(_ s: ImportSummary, options: ImportOptions, to w: inout JSONWriter) {
        w.key("written"); w.bool(!s.rolledBack)
        if let entry = s.auditEntry { w.key("audit_entry"); w.int(Int(entry)) }
        w.key("dry_run"); w.bool(options.dryRun)
        // What the same request without dry_run would do: all or nothing refuses a file with any problem (422).
        if options.dryRun { w.key("would_write"); w.bool(options.partial || s.problems.isEmpty) }
        w.key("added"); w.int(s.added)
        w.key("updated"); w.int(s.updated)
        w.key("unchanged"); w.int(s.unchanged)
        w.key("rejected"); w.int(s.rejected)
        w.key("read_as"); if let dialect = s.csvDialects.first?.dialect { w.string(dialect.description) } else { w.null() }
        w.key("ignored_columns"); w.strings(s.ignoredFields)
        for (key, list) in [("errors", s.problems), ("warnings", s.warnings), ("changes", s.changes)] {
            // Each list in full up to `listed`; its total says when it was cut.
            w.key(key + "_total"); w.int(list.count)
            w.key(key); Problem.write(list.prefix(listed), to: &w)
        }
    }
}

/// Whose turn it is to import: taken by one request at a time, never waited for.
final class ImportTurn: Sendable {
    private let busy = Mutex(false)
    /// True when it was free and is now this caller's.
    func take() -> Bool { busy.withLock { taken in defer { taken = true }; return !taken } }
    func give() { busy.withLock { $0 = false } }
}
