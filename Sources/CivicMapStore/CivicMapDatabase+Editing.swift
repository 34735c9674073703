import CivicMapCore
import Crypto
import Foundation
import GRDB

/// A token as `civicmap token list` shows it (never the token itself).
public struct TokenInfo: Sendable {
    public var name: String
    public var role: Editor.Role
    public var regionCode: String?
    public var createdAt: String
    /// The last second it works; nil: it does not expire.
    public var expiresAt: String?
    /// Noted at most once an hour (a write per request would cost every request a write).
    public var lastUsedAt: String?
    public var revokedAt: String?
}

extension CivicMapDatabase {
    /// Makes a token and returns it: the only time it is seen, since only its digest is kept.
    /// `expiresAt` is a `TimeStamp` (the last second it works) or nil for a token that does not expire.
    public func createToken(name: String, role: Editor.Role, region: String?, expiresAt: String?, by actor: String) throws -> String {
        let name = name.trimmedText
        guard (1...100).contains(name.count), !name.unicodeScalars.contains(where: { $0.value < 0x20 }) else {
            throw CivicMapError.invalidParameter(name: "name", reason: "must be 1 to 100 characters without control characters")
        }
        guard !name.hasPrefix("cli:") else {
            throw CivicMapError.invalidParameter(name: "name", reason: "'cli:' names the command line in the audit log; choose another name")
        }
        if let expiresAt, TimeStamp.parse(expiresAt) != expiresAt || expiresAt <= TimeStamp.string() {
            throw CivicMapError.invalidParameter(name: "expires", reason: "'\(expiresAt)' is not a time in the future")
        }
        var regionCode: String?
        if let region {
            guard let found = try regionDirectory().region(region) else {
                throw CivicMapError.invalidParameter(name: "region", reason: "unknown region '\(region)'")
            }
            regionCode = found.code
        }
        var random = SystemRandomNumberGenerator()
        let secret = (0..<4).map { _ in random.next() as UInt64 }.map { String($0, radix: 16).leftPadded(16) }.joined()
        let token = "cm_" + secret
        try writer.write { db in
            guard try !Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM api_tokens WHERE name = ?)", arguments: [name])! else {
                throw CivicMapError.conflict("a token named '\(name)' exists (names stay taken after revocation, for the audit log); choose another name")
            }
            try db.execute(
                sql: "INSERT INTO api_tokens (name, role, region_code, token_sha256, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)",
                arguments: [name, role.rawValue, regionCode, Self.digest(token), TimeStamp.string(), expiresAt])
            try AuditSQL.appendToken(db, name: name, action: .tokenCreate, by: actor)
        }
        return token
    }

    public func tokens() throws -> [TokenInfo] {
        try writer.read { db in
            try Row.fetchAll(db, sql: """
                SELECT name, role, region_code, created_at, expires_at, last_used_at, revoked_at FROM api_tokens ORDER BY id
                """).map {
                TokenInfo(name: $0[0], role: Editor.Role(rawValue: $0[1]) ?? .editor, regionCode: $0[2], createdAt: $0[3],
                          expiresAt: $0[4], lastUsedAt: $0[5], revokedAt: $0[6])
            }
        }
    }

    /// Revokes the named token at once: the next request with it is refused.
    public func revokeToken(name: String, by actor: String) throws {
        let name = name.trimmedText
        try writer.write { db in
            try db.execute(sql: "UPDATE api_tokens SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL", arguments: [TimeStamp.string(), name])
            guard db.changesCount == 1 else { throw CivicMapError.notFound("active token '\(name)'") }
            try AuditSQL.appendToken(db, name: name, action: .tokenRevoke, by: actor)
        }
    }

    static func digest(_ token: String) -> String {
        SHA256.hash(data: Data(token.utf8)).map { String($0, radix: 16).leftPadded(2) }.joined()
    }

    /// An online, consistent copy (SQLite's backup API reads one snapshot while writers go on).
    /// The copy is checked before it is reported done.
    public func backup(to path: String) throws {
        guard !FileManager.default.fileExists(atPath: path) else {
            throw CivicMapError.invalidParameter(name: "destination", reason: "'\(path)' exists; backups never overwrite")
        }
        let partial = path + ".partial-\(ProcessInfo.processInfo.processIdentifier)"
        try? FileManager.default.removeItem(atPath: partial)
        do {
            let copy = try DatabaseQueue(path: partial)
            try writer.backup(to: copy)
            let check = try copy.read { db in try String.fetchOne(db, sql: "PRAGMA integrity_check") }
            try copy.close()
            guard check == "ok" else { throw CivicMapError.notReady("the copy failed its integrity check: \(check ?? "no answer")") }
            // Phones and e-mails: a copy is for its owner's eyes (as `umask 077` would make it).
            try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: partial)
            // Renaming last means a backup file is either whole or absent.
            try FileManager.default.moveItem(atPath: partial, toPath: path)
        } catch {
            try? FileManager.default.removeItem(atPath: partial)
            throw error
        }
    }
}

extension CivicMapDatabase: FeatureEditor {
    public func editor(forToken token: String) async throws -> Editor? {
        let digest = Self.digest(token)
        let now = TimeStamp.string()
        typealias Stored = (id: Int64, editor: Editor, revokedAt: String?, expiresAt: String?, lastUsedAt: String?)
        guard let stored: Stored = try await reads.read({ db in
            try Row.fetchOne(db, sql: """
                SELECT id, name, role, region_code, revoked_at, expires_at, last_used_at FROM api_tokens WHERE token_sha256 = ?
                """, arguments: [digest]).map { row in
                (row[0], Editor(name: row[1], role: Editor.Role(rawValue: row[2]) ?? .editor, regionCode: row[3]), row[4], row[5], row[6])
            }
        }) else { return nil }
        if let revoked = stored.revokedAt { throw CivicMapError.unauthenticated("the token was revoked at \(revoked)") }
        if let expires = stored.expiresAt, expires < now {
            throw CivicMapError.unauthenticated("the token expired at \(expires); ask its administrator for a new one")
        }
        if stored.lastUsedAt.map({ $0 < TimeStamp.string(Date().addingTimeInterval(-3600)) }) ?? true {
            // Not worth failing or delaying the request for (an import may hold the write lock for
            // seconds): the note is for `token list`, written when the lock is free.
            let writer = self.writer
            Task { try? await writer.write { db in try db.execute(sql: "UPDATE api_tokens SET last_used_at = ? WHERE id = ?", arguments: [now, stored.id]) } }
        }
        return stored.editor
    }

    public func apply(_ change: OrganisationChange, by editor: Editor, ifMatch: String?, kinds: [OrganisationKind]) async throws -> EditedFeature {
        try await writer.write { db in
            let before = try change.id.map { id in try self.storedForEdit(db, id: id, by: editor, ifMatch: ifMatch, kinds: kinds) }
            var id = change.id ?? 0
            switch change {
            case .delete(let deleted):
                try db.execute(sql: "DELETE FROM organizations WHERE id = ?", arguments: [deleted])
            case .create(let record), .replace(_, let record), .update(_, let record):
                if case .create = change {
                    // Never an id given before (a deleted organisation's, or one an undone import added).
                    id = try Int64.fetchOne(db, sql: """
                        SELECT max((SELECT coalesce(max(id), 0) FROM organizations), (\(ImportSQL.highestRetiredID))) + 1
                        """)!
                }
                try self.write(record, id: id, in: db, by: editor, kinds: kinds)
            }
            let after = try FeatureCache.features(db, ids: [id]).first
            // A replacement that changed nothing is no change to log.
            if before?.bytes != after?.bytes {
                try AuditSQL.append(db, actor: editor.name, action: change.action, organisationID: id, before: before?.bytes, after: after?.bytes)
            }
            return EditedFeature(id: id, feature: after)
        }
    }

    /// A region in a message: `RU-PER Пермский край (59)`, or the code when unknown.
    static func named(_ code: String, in regions: RegionDirectory) -> String {
        regions.region(code).map { "\($0.label) (\($0.code))" } ?? "region \(code)"
    }

    /// The stored Feature a change starts from, once the editor may change it and the client's
    /// entity tag says it saw this version.
    private func storedForEdit(_ db: Database, id: Int64, by editor: Editor, ifMatch: String?, kinds: [OrganisationKind]) throws -> EncodedFeature {
        guard let stored = try FeatureCache.features(db, ids: [id]).first, kinds.contains(stored.kind),
            let region = try String.fetchOne(db, sql: "SELECT region_code FROM organizations WHERE id = ?", arguments: [id])
        else { throw CivicMapError.notFound("organisation \(id)") }
        guard editor.mayEdit(regionCode: region) else {
            let regions = try cachedRegions(db)
            throw CivicMapError.forbidden("token '\(editor.name)' may change organisations of \(Self.named(editor.regionCode ?? "", in: regions)) only")
        }
        try EntityTag.check(ifMatch: ifMatch, stored: EntityTag.of(stored.bytes), organisation: id)
        return stored
    }

    /// Validates the record and writes it through the import's SQL (one path for ids, ОГРН
    /// conflicts, programmes and Features), as organisation `id`.
    private func write(_ input: ImportRecord, id: Int64, in db: Database, by editor: Editor, kinds: [OrganisationKind]) throws {
        var record = input
        record.fields["id"] = String(id)
        // A replacement without programmes has none.
        if record.lists["programmes"] == nil { record.lists["programmes"] = [] }
        let regions = try cachedRegions(db)
        let validator = OrganisationValidator(kinds: Set(try cachedKinds(db).map(\.kind)), regions: regions, currentYear: TimeStamp.currentYear)
        let organisation: Organisation
        switch validator.validate(record) {
        case .accepted(let valid, _):
            organisation = valid
        case .rejected(let problems): throw CivicMapError.invalidRecords(problems)
        }
        guard kinds.contains(organisation.kind) else {
            throw CivicMapError.invalidRecords([FieldProblem(line: 1, field: "kind", reason:
                "'\(organisation.kind.rawValue)' does not belong in this collection (\(kinds.map(\.rawValue).joined(separator: ", ")))")])
        }
        guard editor.mayEdit(regionCode: organisation.regionCode) else {
            throw CivicMapError.forbidden("""
                token '\(editor.name)' may not place organisations in \(Self.named(organisation.regionCode, in: regions)), \
                only in \(Self.named(editor.regionCode ?? "", in: regions))
                """)
        }
        var rows = [StagedRow(line: 1, organisation: organisation, statesProgrammes: true)]
        var clock = PhaseClock()  // one row: its phases are not reported
        let counts = try ImportSQL.write(&rows, in: db, regions: regions, partial: false, warns: false, clock: &clock)
        if let problem = counts.problems.first { throw CivicMapError.conflict(problem.reason) }
        try FeatureCache.refresh(db)
    }

    /// Undoes audit entry `entryID`: puts each organisation it wrote back as the entry found it
    /// (the version before a change, no organisation before a create, the deleted one with its
    /// id before a delete). An import's entry undoes the whole import (`import_changes`). Only
    /// while those organisations are as the entry left it (later changes that cancel out do not
    /// count), or a later change would be lost: it must be reverted first. Logged as `revert`,
    /// itself revertible.
    /// An editor that is not an admin may undo only its own entries.
    public func revert(auditEntry entryID: Int64, by editor: Editor) throws -> RevertOutcome {
        try writer.write { db in
            // Another's entry is not found for a token that may not read the audit log (its actors are admins' to know).
            guard let entry = try AuditSQL.entry(db, id: entryID), editor.role == .admin || entry.actor == editor.name else {
                throw CivicMapError.notFound("audit entry \(entryID)\(editor.role == .admin ? "" : " of token '\(editor.name)'")")
            }
            try AuditSQL.refuseIfUndone(db, entry, for: editor)
            try FeatureCache.refresh(db)  // the Features compared and kept below are current
            return try entry.organisationID.map { try revertOne(entry, organisation: $0, in: db, by: editor) }
                ?? revertImport(entry, in: db, by: editor)
        }
    }

    public func revert(auditEntry entryID: Int64, by editor: Editor) async throws -> RevertOutcome {
        // Synchronous, and it may wait for SQLite's write lock: off Swift's cooperative threads, as an import.
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global(qos: .userInitiated).async {
                continuation.resume(with: Result { try self.revert(auditEntry: entryID, by: editor) })
            }
        }
    }

    private func revertOne(_ entry: AuditEntry, organisation id: Int64, in db: Database, by editor: Editor) throws -> RevertOutcome {
        let current = try FeatureCache.features(db, ids: [id]).first
        guard Self.sameContent(current?.bytes, entry.after) else {
            let later = try AuditSQL.later(db, organisation: id, than: entry.id)
            throw CivicMapError.conflict("""
                organisation \(id) has changed since entry \(entry.id)\
                \(later.map { ", last by entry \(AuditSQL.named($0, for: editor))" } ?? ""); \
                revert the later changes first, newest first: civicmap audit --organization \(id)
                """)
        }
        var outcome = RevertOutcome(entry: entry)
        if let before = entry.before {
            try putBack([(id, before)], existing: current == nil ? [] : [id], in: db, outcome: &outcome)
        } else {
            try db.execute(sql: "DELETE FROM organizations WHERE id = ?", arguments: [id])
            outcome.removed = 1
        }
        try FeatureCache.refresh(db)
        let after = try FeatureCache.features(db, ids: [id]).first
        outcome.revertEntry = try AuditSQL.append(db, actor: editor.name, action: .revert, organisationID: id, before: current?.bytes,
                                                  after: after?.bytes, reverts: entry.id)
        return outcome
    }

    /// Every organisation an import (or a revert of one) wrote, put back; the revert records its
    /// own changes in turn.
    private func revertImport(_ entry: AuditEntry, in db: Database, by editor: Editor) throws -> RevertOutcome {
        // First: a restore replaced what was recorded (entries carried over from after the backup have no changes).
        if [AuditAction.import.rawValue, AuditAction.revert.rawValue].contains(entry.action),
            let restore = try Row.fetchOne(db, sql: "SELECT id, at FROM audit_log WHERE action = 'restore' AND id > ? ORDER BY id LIMIT 1",
                                          arguments: [entry.id]) {
            throw CivicMapError.conflict("""
                the database was restored from a backup after entry \(entry.id) (entry \(restore[0] as Int64) at \(restore[1] as String)), \
                so what entry \(entry.id) wrote may be gone; restore a backup taken before it instead
                """)
        }
        let changes = try Row.fetchAll(db, sql: "SELECT organization_id, before FROM import_changes WHERE entry_id = ? ORDER BY organization_id",
                                       arguments: [entry.id]).map { (id: $0[0] as Int64, before: ($0[1] as Data?).map { [UInt8]($0) }) }
        guard !changes.isEmpty else {
            let counts = entry.after.flatMap { try? JSONSerialization.jsonObject(with: Data($0)) as? [String: Any] }
            let wroteNothing = entry.action == "import" && counts?["added"] as? Int == 0 && counts?["updated"] as? Int == 0
            throw CivicMapError.invalidParameter(name: "entry", reason: wroteNothing
                ? "entry \(entry.id) (import) changed no organisation: there is nothing to revert"
                : """
                    entry \(entry.id) (\(entry.action)) records no organisation's versions, so it cannot be reverted\
                    \(entry.action == "import" ? "; imports before this version did not record theirs: restore a backup taken before it" : "")
                    """)
        }
        try refuseIfChangedSince(entry, in: db, for: editor)
        var outcome = RevertOutcome(entry: entry)
        outcome.revertEntry = try AuditSQL.append(db, actor: editor.name, action: .revert, organisationID: nil, before: nil, after: nil,
                                                  reverts: entry.id)
        try db.execute(sql: """
            INSERT INTO import_changes (entry_id, organization_id, before)
            SELECT ?, c.organization_id, (SELECT f.json FROM features f WHERE f.id = c.organization_id)
            FROM import_changes c WHERE c.entry_id = ?
            """, arguments: [outcome.revertEntry, entry.id])
        let existing = try Set(Int64.fetchAll(db, sql: """
            SELECT o.id FROM organizations o JOIN import_changes c ON c.organization_id = o.id WHERE c.entry_id = ?
            """, arguments: [entry.id]))
        // What it created, in one statement; what it changed or removed, written back as one import.
        try db.execute(sql: """
            DELETE FROM organizations WHERE id IN (SELECT organization_id FROM import_changes WHERE entry_id = ? AND before IS NULL)
            """, arguments: [entry.id])
        outcome.removed = db.changesCount
        try putBack(changes.compactMap { change in change.before.map { (change.id, $0) } }, existing: existing, in: db, outcome: &outcome)
        try FeatureCache.refresh(db)  // the revived ones' Features, queued again by their creation times
        var w = JSONWriter()
        w.beginObject()
        w.key("removed"); w.int(outcome.removed)
        w.key("restored"); w.int(outcome.restored)
        w.key("revived"); w.int(outcome.revived)
        w.endObject()
        try AuditSQL.setAfter(db, entry: outcome.revertEntry, w.bytes)
        return outcome
    }

    /// Refuses while an organisation entry `entry` wrote is not as the entry left it. What it left
    /// is what the next entry to write it found (that entry's `before`): later entries that
    /// cancel out (a change and its revert) leave it so and do not stand in the way.
    private func refuseIfChangedSince(_ entry: AuditEntry, in db: Database, for editor: Editor) throws {
        var changed: [(organisation: Int64, newest: Int64)] = []
        let rows = try Row.fetchCursor(db, sql: AuditSQL.writtenLater, arguments: [entry.id])
        while let row = try rows.next() {
            let left = (row[2] as Data?).map { [UInt8]($0) }, current = (row[3] as Data?).map { [UInt8]($0) }
            if left != current && !Self.sameContent(current, left) { changed.append((row[0], row[1])) }
        }
        guard !changed.isEmpty else { return }
        let newestFirst = Array(Set(changed.map(\.newest))).sorted(by: >)
        let entries = try newestFirst.prefix(10).compactMap { try AuditSQL.entry(db, id: $0) }.map { AuditSQL.named($0, for: editor) }
        let named = changed.prefix(5).map { "\($0.organisation) (entry \($0.newest))" }.joined(separator: ", ")
        throw CivicMapError.conflict("""
            \(changed.count) of the organisations entry \(entry.id) wrote \(changed.count == 1 ? "has" : "have") changed since: \
            \(named)\(changed.count > 5 ? ", …" : ""); revert \(newestFirst.count == 1 ? "that entry" : "those entries") first, newest first: \
            \(entries.joined(separator: ", "))\(newestFirst.count > 10 ? ", …" : "")
            """)
    }

    /// Organisations as the Features `versions` show them, written as one import by id: those
    /// gone (not `existing`) come back with their ids and first creation times.
    private func putBack(_ versions: [(id: Int64, feature: [UInt8])], existing: Set<Int64>, in db: Database, outcome: inout RevertOutcome) throws {
        guard !versions.isEmpty else { return }
        let regions = try cachedRegions(db)
        let validator = OrganisationValidator(kinds: Set(try cachedKinds(db).map(\.kind)), regions: regions, currentYear: TimeStamp.currentYear)
        var rows: [StagedRow] = [], created: [(id: Int64, at: String)] = []
        for (id, bytes) in versions {
            let feature = try ImportReader.json(bytes)
            var record = try ImportReader.feature(feature)
            record.fields["id"] = String(id)
            if record.lists["programmes"] == nil { record.lists["programmes"] = [] }
            switch validator.validate(record) {
            case .accepted(let organisation, _): rows.append(StagedRow(line: rows.count + 1, organisation: organisation, statesProgrammes: true))
            case .rejected(let problems):
                throw CivicMapError.conflict("organisation \(id) as it was fails today's checks: \(problems.map(\.reason).joined(separator: "; "))")
            }
            let properties = (feature as? [String: Any])?["properties"] as? [String: Any]
            if !existing.contains(id), let at = properties?["created_at"] as? String, TimeStamp.isValid(at) { created.append((id, at)) }
        }
        var clock = PhaseClock()  // not reported
        let counts = try ImportSQL.write(&rows, in: db, regions: regions, partial: false, bulkThreshold: ImportOptions().bulkThreshold,
                                         warns: false, revivesDeleted: true, clock: &clock)
        if let problem = counts.problems.first {
            let id = problem.line > 0 && problem.line <= versions.count ? " \(versions[problem.line - 1].id)" : ""
            throw CivicMapError.conflict("organisation\(id) cannot be put back: \(problem.reason); revert the change that took it first")
        }
        outcome.revived += versions.count(where: { !existing.contains($0.id) })
        outcome.restored += versions.count(where: { existing.contains($0.id) })
        // Back, each keeps the time it was first created (the trigger queues its Feature again).
        for c in created {
            try db.execute(sql: "UPDATE organizations SET created_at = ? WHERE id = ?", arguments: [c.at, c.id])
        }
    }

    /// Whether two versions of a Feature say the same, whenever written: the time of the change,
    /// the programmes' row ids (new whenever programmes are written), and what the region gives
    /// (its name, the distance to its centre: a moved centre is no change of the organisation's) aside.
    static func sameContent(_ a: [UInt8]?, _ b: [UInt8]?) -> Bool {
        func canonical(_ bytes: [UInt8]?) -> Data? {
            guard let bytes, var feature = (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any],
                var properties = feature["properties"] as? [String: Any]
            else { return nil }
            for derived in ["updated_at", "region_name", "distance_to_center_km"] { properties[derived] = nil }
            if let programmes = properties["programmes"] as? [[String: Any]] {
                properties["programmes"] = programmes.map { p in p.filter { $0.key != "id" } }
            }
            feature["properties"] = properties
            return JSONText.canonical(feature)
        }
        return a == b || (a != nil && b != nil && canonical(a) == canonical(b))
    }

    public func auditLog(_ query: AuditQuery) async throws -> AuditPage {
        try await reads.read { db in try AuditSQL.page(db, query) }
    }

    public func importOrganisations(_ input: ImportInput, options: ImportOptions, by editor: Editor) async throws -> ImportSummary {
        var scoped = options
        scoped.onlyRegion = editor.regionCode
        scoped.mayLeaveWAL = false  // the server's readers need WAL
        scoped.assignsIDs = true
        let options = scoped
        // The import is synchronous and waits for SQLite's write lock: on a thread of its own,
        // not one of Swift's few cooperative ones, which requests need.
        return try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global(qos: .userInitiated).async {
                continuation.resume(with: Result { try self.importInputs([input], options: options, actor: editor.name) })
            }
        }
    }
}

/// The audit log's SQL, in one place.
enum AuditSQL {
    /// Appends an entry; returns its id.
    @discardableResult
    static func append(_ db: Database, actor: String, action: AuditAction, organisationID: Int64?, before: [UInt8]?, after: [UInt8]?,
                       at: String = TimeStamp.string(), reverts: Int64? = nil) throws -> Int64 {
        try db.execute(
            sql: "INSERT INTO audit_log (at, actor, action, organization_id, before, after, reverts) VALUES (?, ?, ?, ?, ?, ?, ?)",
            arguments: [at, actor, action.rawValue, organisationID, before.map { Data($0) }, after.map { Data($0) }, reverts])
        return db.lastInsertedRowID
    }

    /// The summary of an entry appended before its work was done (an import's counts), and its
    /// time: when that work was done.
    static func setAfter(_ db: Database, entry id: Int64, _ after: [UInt8]) throws {
        try db.execute(sql: "UPDATE audit_log SET after = ?, at = ? WHERE id = ?", arguments: [Data(after), TimeStamp.string(), id])
    }

    static func entry(_ db: Database, id: Int64) throws -> AuditEntry? {
        try Row.fetchOne(db, sql: "SELECT \(columns) FROM audit_log WHERE id = ?", arguments: [id]).map(entry(from:))
    }

    /// The newest entry after entry `id` that wrote the organisation (its own, or an import's):
    /// what a revert would undo too.
    static func later(_ db: Database, organisation: Int64, than id: Int64) throws -> AuditEntry? {
        try Row.fetchOne(db, sql: "SELECT \(columns) FROM audit_log WHERE id = (\(newestLater(organisation: "?1", than: "?2")))",
                         arguments: [organisation, id]).map(entry(from:))
    }

    /// SQL: the newest entry after entry `than` that wrote organisation `organisation` (both SQL expressions).
    private static func newestLater(organisation: String, than id: String) -> String {
        """
        SELECT max(id) FROM (
            SELECT id FROM audit_log WHERE organization_id = \(organisation) AND id > \(id)
            UNION ALL SELECT entry_id FROM import_changes WHERE organization_id = \(organisation) AND entry_id > \(id))
        """
    }

    /// SQL: each organisation entry ?1 wrote that a later entry wrote too, with the newest such
    /// entry, the Feature the first of them found (what entry ?1 left) and the Feature now.
    static let writtenLater = """
        SELECT w.organization_id, w.newest,
               coalesce((SELECT a.before FROM audit_log a WHERE a.id = w.first AND a.organization_id = w.organization_id),
                        (SELECT i.before FROM import_changes i WHERE i.entry_id = w.first AND i.organization_id = w.organization_id)),
               (SELECT f.json FROM features f WHERE f.id = w.organization_id)
        FROM (
            SELECT c.organization_id,
                   (SELECT min(e) FROM (SELECT id AS e FROM audit_log WHERE organization_id = c.organization_id AND id > ?1
                                        UNION ALL SELECT entry_id FROM import_changes WHERE organization_id = c.organization_id AND entry_id > ?1)) AS first,
                   (\(newestLater(organisation: "c.organization_id", than: "?1"))) AS newest
            FROM import_changes c WHERE c.entry_id = ?1) w
        WHERE w.first IS NOT NULL
        """

    /// Refuses to revert an entry a revert has undone (and that revert stands): reverting it
    /// again would not undo it twice but fail on the revert's change.
    static func refuseIfUndone(_ db: Database, _ entry: AuditEntry, for editor: Editor) throws {
        guard let undo = try Int64.fetchOne(db, sql: """
            SELECT id FROM audit_log r WHERE reverts = ? AND NOT EXISTS (SELECT 1 FROM audit_log WHERE reverts = r.id)
            ORDER BY id DESC LIMIT 1
            """, arguments: [entry.id]), let revert = try self.entry(db, id: undo) else { return }
        throw CivicMapError.conflict("""
            entry \(entry.id) was already undone by entry \(named(revert, for: editor)); reverting entry \(undo) applies it again
            """)
    }

    /// An entry as a refusal names it: who and when only for admins (who may read the audit log)
    /// and for the entry's own author.
    static func named(_ e: AuditEntry, for editor: Editor) -> String {
        editor.role == .admin || e.actor == editor.name ? "\(e.id) (\(e.action) by \(e.actor) at \(e.at))" : "\(e.id) (\(e.action), another token's)"
    }

    private static let columns = "id, at, actor, action, organization_id, before, after, reverts"

    private static func entry(from row: Row) -> AuditEntry {
        AuditEntry(id: row[0], at: row[1], actor: row[2], action: row[3], organisationID: row[4],
                   before: (row[5] as Data?).map { [UInt8]($0) }, after: (row[6] as Data?).map { [UInt8]($0) }, reverts: row[7])
    }

    /// A token made or revoked: the token's name, role, region and expiry as they now are (never its digest).
    static func appendToken(_ db: Database, name: String, action: AuditAction, by actor: String) throws {
        let row = try Row.fetchOne(db, sql: """
            SELECT t.name, t.role, r.iso, t.expires_at FROM api_tokens t LEFT JOIN regions r ON r.code = t.region_code WHERE t.name = ?
            """, arguments: [name])
        var w = JSONWriter()
        w.beginObject()
        w.key("token"); w.string(name)
        w.key("role"); w.string(row?["role"] ?? "")
        w.key("region_iso"); w.string(row?["iso"] as String?)
        w.key("expires_at"); w.string(row?["expires_at"] as String?)
        w.endObject()
        try append(db, actor: actor, action: action, organisationID: nil, before: nil, after: w.bytes)
    }

    static func page(_ db: Database, _ query: AuditQuery) throws -> AuditPage {
        // An organisation's entries are its own and those of the imports (and reverts) that wrote it.
        let filter = """
            (?1 IS NULL OR organization_id = ?1 OR id IN (SELECT entry_id FROM import_changes WHERE organization_id = ?1)) AND (?2 IS NULL OR actor = ?2) AND (?3 IS NULL OR action = ?3)
            AND (?4 IS NULL OR at >= ?4) AND (?5 IS NULL OR at <= ?5)
            """
        let arguments: StatementArguments = [query.organisationID, query.actor, query.action?.rawValue, query.since, query.until]
        let matched = try Int.fetchOne(db, sql: "SELECT count(*) FROM audit_log WHERE \(filter)", arguments: arguments) ?? 0
        let rows = try Row.fetchAll(
            db, sql: "SELECT \(columns) FROM audit_log WHERE \(filter) ORDER BY id DESC LIMIT ?6 OFFSET ?7",
            arguments: arguments + [query.limit, query.offset])
        return AuditPage(entries: rows.map(entry(from:)), numberMatched: matched)
    }
}

extension String {
    func leftPadded(_ width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
