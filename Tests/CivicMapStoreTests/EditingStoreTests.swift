import CivicMapCore
import Foundation
import GRDB
import Testing

@testable import CivicMapStore

/// Tokens, changes with their audit entries, and backups, each test on its own database.
@Suite("Editing in the store")
struct EditingStoreTests {
    static let allKinds: [OrganisationKind] = [.ngo, .tos, .internshipSite]
    static let admin = Editor(name: "admin", role: .admin, regionCode: nil)
    /// Scoped to Perm Krai (code 59); demo organisations 20–22 are there, 3 is in Yakutia.
    static let permEditor = Editor(name: "perm", role: .editor, regionCode: "59")
    /// Org 20's ОГРН in the demo data.
    static let takenOGRN = "1155958122242"

    /// A new NGO in Kudymkar, Perm Krai: 145.5527 km from Perm, the regional centre.
    static func kudymkar(_ extra: [String: String] = [:]) -> ImportRecord {
        var fields = [
            "name": "АНО «Новая среда»", "kind": "ngo", "region_iso": "RU-PER", "settlement": "Кудымкар",
            "lat": "59.0152", "lon": "54.6532",
        ]
        fields.merge(extra) { $1 }
        return ImportRecord(line: 1, fields: fields.filter { !$0.value.isEmpty })
    }

    /// The stored Feature merge-patched as PATCH does it, and the tag it was read at.
    static func patched(_ t: TestDatabase, _ id: Int64, _ patch: String) async throws -> (record: ImportRecord, tag: String) {
        let stored = try #require(try await t.database.feature(id: id))
        let json = try ImportReader.json(Array(patch.utf8))
        let merged = JSONMergePatch.apply(json, to: try JSONMergePatch.editableFeature(stored.bytes, patch: json))
        return (try ImportReader.feature(merged), EntityTag.of(stored.bytes))
    }

    static func tag(_ t: TestDatabase, _ id: Int64) async throws -> String {
        let stored = try #require(try await t.database.feature(id: id))
        return EntityTag.of(stored.bytes)
    }

    /// The CivicMapError thrown, or nil (with an issue recorded) when none was.
    static func caught(_ body: () async throws -> Void) async -> CivicMapError? {
        do {
            try await body()
            Issue.record("expected a CivicMapError, nothing was thrown")
        } catch let error as CivicMapError {
            return error
        } catch {
            Issue.record("expected a CivicMapError, got \(error)")
        }
        return nil
    }

    /// The case name of an error (`conflict`, `forbidden`, …).
    static func name(_ error: CivicMapError?) -> String? { error.flatMap { Mirror(reflecting: $0).children.first?.label } }

    static func fields(_ error: CivicMapError?) -> [String] {
        guard case .invalidRecords(let problems)? = error else { return [] }
        return problems.map(\.field)
    }

    static func properties(_ bytes: [UInt8]?) throws -> [String: Any] {
        let bytes = try #require(bytes)
        let feature = try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
        return try #require(feature["properties"] as? [String: Any])
    }

    static func auditCount(_ t: TestDatabase) throws -> Int { try t.count("SELECT count(*) FROM audit_log") }

    // MARK: - Tokens

    @Test func aTokenResolvesToItsHolder() async throws {
        let t = try TestDatabase()
        let token = try t.database.createToken(name: "perm", role: .editor, region: "RU-PER", expiresAt: nil, by: "cli:test")
        #expect(token.hasPrefix("cm_"))
        #expect(token.count == 67)
        #expect(token.dropFirst(3).allSatisfy { "0123456789abcdef".contains($0) })
        #expect(try await t.database.editor(forToken: token) == Editor(name: "perm", role: .editor, regionCode: "59"))

        let admin = try t.database.createToken(name: "admin", role: .admin, region: nil, expiresAt: nil, by: "cli:test")
        #expect(admin != token)
        #expect(try await t.database.editor(forToken: admin) == Editor(name: "admin", role: .admin, regionCode: nil))
        let yakutia = try t.database.createToken(name: "yakutia", role: .editor, region: "14", expiresAt: nil, by: "cli:test")
        #expect(try await t.database.editor(forToken: yakutia)?.regionCode == "14")

        #expect(try await t.database.editor(forToken: token + "0") == nil)
        #expect(try await t.database.editor(forToken: "cm_" + String(repeating: "0", count: 64)) == nil)
        #expect(try t.database.tokens().map(\.name) == ["perm", "admin", "yakutia"])
    }

    @Test func onlyTheTokensDigestIsStored() async throws {
        let t = try TestDatabase()
        let token = try t.database.createToken(name: "perm", role: .editor, region: "59", expiresAt: nil, by: "cli:test")
        let secret = String(token.dropFirst(3))
        let rows = try await t.database.writer.read { db in try Row.fetchAll(db, sql: "SELECT * FROM api_tokens") }
        #expect(rows.count == 1)
        let row = try #require(rows.first)
        #expect(!row.databaseValues.contains { $0.description.contains(secret) })
        let digest: String = row["token_sha256"]
        #expect(digest.count == 64)
        #expect(digest.allSatisfy { "0123456789abcdef".contains($0) })
        #expect(digest == CivicMapDatabase.digest(token))

        // Nor anywhere in the files (the digest is found there, so the search works).
        let path = t.directory.appendingPathComponent("test.sqlite").path
        let files = [path, path + "-wal"].compactMap { FileManager.default.contents(atPath: $0) }
        #expect(!files.isEmpty)
        #expect(files.allSatisfy { $0.range(of: Data(secret.utf8)) == nil })
        #expect(files.contains { $0.range(of: Data(digest.utf8)) != nil })
    }

    @Test func aRevokedTokenIsRefusedAndSaysWhen() async throws {
        let t = try TestDatabase()
        let token = try t.database.createToken(name: "perm", role: .editor, region: "RU-PER", expiresAt: nil, by: "cli:test")
        let other = try t.database.createToken(name: "other", role: .editor, region: nil, expiresAt: nil, by: "cli:test")
        try t.database.revokeToken(name: "perm", by: "cli:test")
        let refused = await Self.caught { _ = try await t.database.editor(forToken: token) }
        guard case .unauthenticated(let why)? = refused else { Issue.record("expected unauthenticated, got \(String(describing: refused))"); return }
        #expect(why.contains("revoked at 20"))
        #expect(try await t.database.editor(forToken: other)?.name == "other")
        let listed = try t.database.tokens()
        #expect(listed.first { $0.name == "perm" }?.revokedAt != nil)
        #expect(listed.first { $0.name == "other" }?.revokedAt == nil)
        let again = await Self.caught { try t.database.revokeToken(name: "perm", by: "cli:test") }
        #expect(Self.name(again) == "notFound")
    }

    @Test func anExpiredTokenIsRefusedAndAFutureExpiryWorks() async throws {
        let t = try TestDatabase()
        let tomorrow = TimeStamp.string(Date().addingTimeInterval(86_400))
        let token = try t.database.createToken(name: "perm", role: .editor, region: "RU-PER", expiresAt: tomorrow, by: "cli:test")
        #expect(try await t.database.editor(forToken: token)?.name == "perm")
        #expect(try t.database.tokens().first?.expiresAt == tomorrow)
        // A day later (moved back rather than waited for).
        let yesterday = TimeStamp.string(Date().addingTimeInterval(-86_400))
        try await t.database.writer.write { db in try db.execute(sql: "UPDATE api_tokens SET expires_at = ?", arguments: [yesterday]) }
        let refused = await Self.caught { _ = try await t.database.editor(forToken: token) }
        guard case .unauthenticated(let why)? = refused else { Issue.record("expected unauthenticated, got \(String(describing: refused))"); return }
        #expect(why.contains("expired at \(yesterday)"))

        for past in [yesterday, "2026-13-01T00:00:00Z", "soon"] {
            let error = await Self.caught { _ = try t.database.createToken(name: "late", role: .admin, region: nil, expiresAt: past, by: "cli:test") }
            guard case .invalidParameter(let name, _)? = error else { Issue.record("\(past): \(String(describing: error))"); continue }
            #expect(name == "expires")
        }
        #expect(try t.database.tokens().count == 1)
    }

    /// The note is written after the answer, when the write lock is free: read until it is there
    /// (or 10 s have passed).
    static func lastUse(_ t: TestDatabase, after earlier: String?) async throws -> String? {
        for _ in 0..<200 {
            let now = try t.database.tokens()[0].lastUsedAt
            if now != earlier { return now }
            try await Task.sleep(for: .milliseconds(50))
        }
        return earlier
    }

    @Test func aTokensUseIsNotedAtMostHourly() async throws {
        let t = try TestDatabase()
        let token = try t.database.createToken(name: "perm", role: .editor, region: nil, expiresAt: nil, by: "cli:test")
        #expect(try t.database.tokens()[0].lastUsedAt == nil)
        _ = try await t.database.editor(forToken: token)
        let first = try #require(try await Self.lastUse(t, after: nil))
        #expect(TimeStamp.isValid(first))
        func setLastUse(_ secondsAgo: TimeInterval) async throws -> String {
            let then = TimeStamp.string(Date().addingTimeInterval(-secondsAgo))
            try await t.database.writer.write { db in try db.execute(sql: "UPDATE api_tokens SET last_used_at = ?", arguments: [then]) }
            return then
        }
        let halfAnHourAgo = try await setLastUse(1800)
        _ = try await t.database.editor(forToken: token)
        try await Task.sleep(for: .milliseconds(500))  // a note, were one written, would be there by now
        #expect(try t.database.tokens()[0].lastUsedAt == halfAnHourAgo)
        let twoHoursAgo = try await setLastUse(7200)
        _ = try await t.database.editor(forToken: token)
        #expect(try #require(try await Self.lastUse(t, after: twoHoursAgo)) > twoHoursAgo)
    }

    @Test func makingAndRevokingATokenIsLogged() async throws {
        let t = try TestDatabase()
        let token = try t.database.createToken(name: "perm", role: .editor, region: "RU-PER", expiresAt: "2099-12-31T23:59:59Z", by: "cli:alice")
        try t.database.revokeToken(name: "perm", by: "cli:bob")
        let log = try await t.database.auditLog(AuditQuery())
        #expect(log.entries.map(\.action) == ["token-revoke", "token-create"])
        #expect(log.entries.map(\.actor) == ["cli:bob", "cli:alice"])
        #expect(log.entries.allSatisfy { $0.organisationID == nil && $0.before == nil })
        let madeBytes = try #require(log.entries[1].after)
        let made = try #require(try JSONSerialization.jsonObject(with: Data(madeBytes)) as? [String: Any])
        #expect(made["token"] as? String == "perm")
        #expect(made["role"] as? String == "editor")
        #expect(made["region_iso"] as? String == "RU-PER")
        #expect(made["expires_at"] as? String == "2099-12-31T23:59:59Z")
        let text = log.entries.compactMap(\.after).map { String(decoding: $0, as: UTF8.self) }.joined()
        #expect(!text.contains(CivicMapDatabase.digest(token)) && !text.contains(String(token.dropFirst(3))))
        // A refused revocation logs nothing.
        _ = await Self.caught { try t.database.revokeToken(name: "perm", by: "cli:bob") }
        #expect(try await t.database.auditLog(AuditQuery()).numberMatched == 2)
    }

    // MARK: - Revert

    /// The properties a revert must bring back: all but the time of the change.
    static func content(_ t: TestDatabase, _ id: Int64) async throws -> String? {
        guard let stored = try await t.database.feature(id: id) else { return nil }
        var feature = try #require(try JSONSerialization.jsonObject(with: Data(stored.bytes)) as? [String: Any])
        var properties = try #require(feature["properties"] as? [String: Any])
        properties["updated_at"] = nil
        feature["properties"] = properties
        return String(decoding: try JSONSerialization.data(withJSONObject: feature, options: .sortedKeys), as: UTF8.self)
    }

    static let steward = Editor(name: "cli:steward", role: .admin, regionCode: nil)

    static func lastEntry(_ t: TestDatabase) async throws -> AuditEntry {
        try #require(try await t.database.auditLog(AuditQuery(limit: 1)).entries.first)
    }

    @Test func aRevertPutsBackAnUpdateAndCanItselfBeReverted() async throws {
        let t = try TestDatabase(demo: true)
        let alice = Editor(name: "alice", role: .editor, regionCode: nil)
        let original = try await Self.content(t, 22)
        let p = try await Self.patched(t, 22, #"{"properties":{"phone":"+7 342 200-00-00","name":"Фонд грантов (переименован)"}}"#)
        _ = try await t.database.apply(.update(id: 22, p.record), by: alice, ifMatch: p.tag, kinds: Self.allKinds)
        let changed = try await Self.content(t, 22)
        let update = try await Self.lastEntry(t)
        let reverted = try await t.database.revert(auditEntry: update.id, by: Self.steward)
        #expect(reverted.entry.id == update.id && reverted.entry.action == "update" && reverted.restored == 1)
        #expect(try await Self.content(t, 22) == original)
        let revert = try await Self.lastEntry(t)
        #expect(revert.action == "revert" && revert.reverts == update.id && revert.actor == "cli:steward" && revert.organisationID == 22)
        #expect(revert.before == update.after)
        // Reverting the revert is the change again.
        _ = try await t.database.revert(auditEntry: revert.id, by: Self.steward)
        #expect(try await Self.content(t, 22) == changed)
    }

    @Test func aRevertBringsADeletedOrganisationBackWithItsIDAndProgrammes() async throws {
        let t = try TestDatabase(demo: true)
        let admin = Editor(name: "admin", role: .admin, regionCode: nil)
        let programmes = try t.count("SELECT count(*) FROM programmes WHERE organization_id = 1")
        #expect(programmes > 0)
        _ = try await t.database.apply(.delete(id: 1), by: admin, ifMatch: try await Self.tag(t, 1), kinds: Self.allKinds)
        #expect(try await t.database.feature(id: 1) == nil)
        let deleted = try await Self.lastEntry(t)
        try await Task.sleep(for: .seconds(1.1))  // so a new creation time would differ from the old one
        _ = try await t.database.revert(auditEntry: deleted.id, by: Self.steward)
        let revived = try #require(try await t.database.feature(id: 1))
        #expect(CivicMapDatabase.sameContent(revived.bytes, deleted.before))
        #expect(try t.count("SELECT count(*) FROM programmes WHERE organization_id = 1") == programmes)
        // A create reverted is removed again.
        let made = try await t.database.apply(.create(Self.kudymkar()), by: admin, ifMatch: nil, kinds: Self.allKinds)
        _ = try await t.database.revert(auditEntry: try await Self.lastEntry(t).id, by: Self.steward)
        #expect(try await t.database.feature(id: made.id) == nil)
    }

    @Test func aRevertWaitsForLaterChangesToBeRevertedFirst() async throws {
        let t = try TestDatabase(demo: true)
        let alice = Editor(name: "alice", role: .editor, regionCode: nil), bob = Editor(name: "bob", role: .editor, regionCode: nil)
        let original = try await Self.content(t, 22)
        let a = try await Self.patched(t, 22, #"{"properties":{"phone":"1"}}"#)
        _ = try await t.database.apply(.update(id: 22, a.record), by: alice, ifMatch: a.tag, kinds: Self.allKinds)
        let first = try await Self.lastEntry(t)
        let b = try await Self.patched(t, 22, #"{"properties":{"phone":"2"}}"#)
        _ = try await t.database.apply(.update(id: 22, b.record), by: bob, ifMatch: b.tag, kinds: Self.allKinds)
        let second = try await Self.lastEntry(t)
        let refused = await Self.caught { _ = try await t.database.revert(auditEntry: first.id, by: Self.steward) }
        guard case .conflict(let why)? = refused else { Issue.record("\(String(describing: refused))"); return }
        #expect(why.contains("last by entry \(second.id) (update by bob at "), "\(why)")
        #expect(try await t.database.auditLog(AuditQuery(action: .revert)).numberMatched == 0)
        _ = try await t.database.revert(auditEntry: second.id, by: Self.steward)
        _ = try await t.database.revert(auditEntry: first.id, by: Self.steward)
        #expect(try await Self.content(t, 22) == original)
        // The demo import wrote organisation 22 too, and the later changes to it cancel out (each
        // reverted): the import can be undone.
        let importEntry = try #require(try await t.database.auditLog(AuditQuery(action: .import)).entries.first)
        let undone = try await t.database.revert(auditEntry: importEntry.id, by: Self.steward)
        #expect(undone.removed > 20 && undone.restored == 0)
        #expect(try t.count("SELECT count(*) FROM organizations") == 0)
        // An entry that wrote no organisation cannot be reverted; an unknown entry is none.
        let token = try await t.database.writer.write { db in
            try AuditSQL.append(db, actor: "test", action: .tokenCreate, organisationID: nil, before: nil, after: nil)
        }
        #expect(Self.name(await Self.caught { _ = try await t.database.revert(auditEntry: token, by: Self.steward) }) == "invalidParameter")
        #expect(Self.name(await Self.caught { _ = try await t.database.revert(auditEntry: 999_999, by: Self.steward) }) == "notFound")
    }

    /// Every Feature's content (the time of the change aside), by id.
    static func everything(_ t: TestDatabase) async throws -> [Int64: String] {
        var all: [Int64: String] = [:]
        for id in try await t.database.writer.read({ db in try Int64.fetchAll(db, sql: "SELECT id FROM organizations") }) {
            all[id] = try await content(t, id)
        }
        return all
    }

    @Test func aRevertUndoesAWholeImportAndCanItselfBeReverted() async throws {
        let t = try TestDatabase(demo: true)
        let original = try await Self.everything(t)
        let stored = try #require(try await t.database.feature(id: 22))
        let feature = try #require(try JSONSerialization.jsonObject(with: Data(stored.bytes)) as? [String: Any])
        let properties = try #require(feature["properties"] as? [String: Any])
        let point = try #require((feature["geometry"] as? [String: Any])?["coordinates"] as? [Double])
        let path = try t.file("coordinator.csv", """
            id,name,kind,region_iso,settlement,lat,lon
            22,Фонд (переименован),\(properties["kind"]!),\(properties["region_iso"]!),,\(point[1]),\(point[0])
            ,АНО «Среда»,ngo,RU-PER,Кудымкар,59.0152,54.6532

            """)
        let summary = try t.database.importFiles([path], currentYear: 2026, actor: "coordinator")
        #expect(summary.added == 1 && summary.updated == 1, "\(summary.problems)")
        let imported = try await Self.everything(t)
        let entry = try await Self.lastEntry(t)
        #expect(entry.action == "import")

        let undone = try await t.database.revert(auditEntry: entry.id, by: Self.steward)
        #expect(undone.removed == 1 && undone.restored == 1 && undone.revived == 0)
        #expect(try await Self.everything(t) == original)
        let revert = try await Self.lastEntry(t)
        #expect(revert.action == "revert" && revert.reverts == entry.id && revert.organisationID == nil)
        // Reverting the revert is the import again: the new organisation back with its id.
        let redone = try await t.database.revert(auditEntry: revert.id, by: Self.steward)
        #expect(redone.revived == 1 && redone.restored == 1 && redone.removed == 0)
        #expect(try await Self.everything(t) == imported)

        // An edit after the import: the import's revert names it and changes nothing.
        let alice = Editor(name: "alice", role: .editor, regionCode: nil)
        let p = try await Self.patched(t, 22, #"{"properties":{"phone":"+7 342 200-00-00"}}"#)
        _ = try await t.database.apply(.update(id: 22, p.record), by: alice, ifMatch: p.tag, kinds: Self.allKinds)
        let edit = try await Self.lastEntry(t)
        let edited = try await Self.everything(t)
        let refused = await Self.caught { _ = try await t.database.revert(auditEntry: entry.id, by: Self.steward) }
        guard case .conflict(let why)? = refused else { Issue.record("\(String(describing: refused))"); return }
        #expect(why.contains("1 of the organisations entry \(entry.id) wrote has changed since: 22 (entry \(edit.id))"), "\(why)")
        #expect(why.contains("revert that entry first, newest first: \(edit.id) (update by alice at "), "\(why)")
        #expect(try await Self.everything(t) == edited)
        // The edit reverted, the import (applied again by the revert of its revert) can be undone once more.
        _ = try await t.database.revert(auditEntry: edit.id, by: Self.steward)
        let last = try await t.database.revert(auditEntry: entry.id, by: Self.steward)
        #expect(last.removed == 1 && last.restored == 1)
        #expect(try await Self.everything(t) == original)
        // Undone and not applied again since: a second revert says so.
        let twice = await Self.caught { _ = try await t.database.revert(auditEntry: entry.id, by: Self.steward) }
        guard case .conflict(let twiceWhy)? = twice else { Issue.record("\(String(describing: twice))"); return }
        #expect(twiceWhy.contains("entry \(entry.id) was already undone by entry \(last.revertEntry)"), "\(twiceWhy)")
        // An import that changed nothing has nothing to undo, and says so.
        let unchangedOnly = try t.file("same.csv", "id,name,kind,region_iso,lat,lon\n22,\"\(properties["name"]!)\",\(properties["kind"]!),\(properties["region_iso"]!),\(point[1]),\(point[0])\n")
        let same = try t.database.importFiles([unchangedOnly], currentYear: 2026, actor: "coordinator")
        #expect(same.unchanged == 1 && same.added + same.updated == 0, "\(same.problems)")
        let nothing = await Self.caught { _ = try await t.database.revert(auditEntry: try await Self.lastEntry(t).id, by: Self.steward) }
        guard case .invalidParameter(_, let nothingWhy)? = nothing else { Issue.record("\(String(describing: nothing))"); return }
        #expect(nothingWhy.contains("changed no organisation"), "\(nothingWhy)")
    }

    /// Two imports of one organisation: the first is undone only after the second, newest first.
    @Test func aLaterImportIsRevertedFirst() async throws {
        let t = try TestDatabase(demo: true)
        let original = try await Self.everything(t)
        let stored = try Self.properties(try await t.database.feature(id: 22)?.bytes)
        let point = try #require(try await t.database.organisation(id: 22)?.location)
        func importName(_ name: String) throws -> Int64 {
            let path = try t.file("\(name).csv", """
                id,name,kind,region_iso,lat,lon
                22,\(name),\(stored["kind"]!),\(stored["region_iso"]!),\(point.latitude),\(point.longitude)

                """)
            return try #require(try t.database.importFiles([path], currentYear: 2026, actor: "coordinator").auditEntry)
        }
        let a = try importName("Фонд А"), b = try importName("Фонд Б")
        let refused = await Self.caught { _ = try await t.database.revert(auditEntry: a, by: Self.steward) }
        guard case .conflict(let why)? = refused else { Issue.record("\(String(describing: refused))"); return }
        #expect(why.contains("22 (entry \(b))") && why.contains("\(b) (import by coordinator at "), "\(why)")
        _ = try await t.database.revert(auditEntry: b, by: Self.steward)
        _ = try await t.database.revert(auditEntry: a, by: Self.steward)
        #expect(try await Self.everything(t) == original)
    }

    /// A moved regional centre changes every distance in the region, but no organisation: a change
    /// from before it is still reverted (and the distance is the new centre's).
    @Test func aRevertAfterACentreMovedStillWorks() async throws {
        let t = try TestDatabase(demo: true)
        let original = try Self.properties(try await t.database.feature(id: 22)?.bytes)
        let p = try await Self.patched(t, 22, #"{"properties":{"phone":"+7 342 200-00-00"}}"#)
        _ = try await t.database.apply(.update(id: 22, p.record), by: Self.admin, ifMatch: p.tag, kinds: Self.allKinds)
        let edit = try await Self.lastEntry(t)
        let data = TestDatabase.repository.appendingPathComponent("data").path
        var regions = try RegionReader.read(csvPath: data + "/regions.csv", outlinesPath: data + "/regions_ru.geojson")
        let index = try #require(regions.firstIndex { $0.iso == original["region_iso"] as? String })
        regions[index].centre = try Coordinate(latitude: regions[index].centre.latitude + 0.5, longitude: regions[index].centre.longitude)
        #expect(try t.database.loadRegions(regions, by: "cli:test").count == 1)
        _ = try await t.database.revert(auditEntry: edit.id, by: Self.steward)
        let reverted = try Self.properties(try await t.database.feature(id: 22)?.bytes)
        #expect(reverted["phone"] as? String == original["phone"] as? String)
        #expect(reverted["distance_to_center_km"] as? Double != original["distance_to_center_km"] as? Double)
    }

    /// A restore replaces what imports recorded: an import from before it is not reverted.
    @Test func anImportBeforeARestoreIsNotReverted() async throws {
        let t = try TestDatabase()
        _ = try t.importCSV(["1,АНО Один,ngo,RU-PER,,,,,,,,58.0105,56.2502"])
        let entry = try await Self.lastEntry(t)
        // Restored into a copy: the test's own file stays open.
        let backup = t.directory.appendingPathComponent("backup.sqlite").path, copy = t.directory.appendingPathComponent("copy.sqlite").path
        try t.database.backup(to: backup)
        #expect(try t.importCSV([",АНО После копии,ngo,RU-PER,,,,,,,,58.0105,56.2502"]).added == 1)  // id 2, after the backup
        try t.database.backup(to: copy)
        _ = try CivicMapDatabase.restore(backup: backup, into: copy, actor: "cli:test")
        let restored = try CivicMapDatabase(path: copy)
        let refused = await Self.caught { _ = try await restored.revert(auditEntry: entry.id, by: Self.steward) }
        guard case .conflict(let why)? = refused else { Issue.record("\(String(describing: refused))"); return }
        #expect(why.contains("restored from a backup after entry \(entry.id)"), "\(why)")
        #expect(try await restored.feature(id: 1) != nil)
        // The id the import after the backup gave stays retired.
        let file = try t.file("new.csv", "name,kind,region_iso,lat,lon\nАНО Новая,ngo,RU-PER,58.0105,56.2502\n")
        #expect(try restored.importFiles([file], currentYear: 2026).added == 1)
        let second = try await restored.feature(id: 2), third = try await restored.feature(id: 3)
        #expect(second == nil && third != nil)
    }

    /// The first big import into an empty table records its rows too: reverted, the table is
    /// empty again, and a later import does not give their ids to others.
    @Test func aRevertUndoesAFirstBulkImport() async throws {
        let t = try TestDatabase()
        let rows = ["7,АНО Тест,ngo,RU-PER,Пермь,,,,,,,58.0105,56.2502", ",ТОС «Заря»,tos,RU-SA,Якутск,,,,,,,62.0311,129.7229",
                    ",АНО «Среда»,ngo,RU-PER,Кудымкар,,,,,,,59.0152,54.6532"]
        let summary = try t.importCSV(rows, options: ImportOptions(bulkThreshold: 2))
        #expect(summary.added == 3)
        #expect(try t.count("SELECT count(*) FROM import_changes WHERE before IS NULL") == 3)
        let entry = try await Self.lastEntry(t)
        let undone = try await t.database.revert(auditEntry: entry.id, by: Self.steward)
        #expect(undone.removed == 3)
        #expect(try t.count("SELECT count(*) FROM organizations") == 0)
        #expect(try t.count("SELECT count(*) FROM idx_organizations_geom") == 0)
        #expect(try t.count("SELECT count(*) FROM features") == 0)
        _ = try t.importCSV([",АНО «Новая»,ngo,RU-PER,Пермь,,,,,,,58.0105,56.2502"])
        #expect(try t.count("SELECT min(id) FROM organizations") == 10)  // after 7, 8, 9, which are retired
        // A file naming a removed id is told so (undoing the revert brings it back).
        let named = try t.importCSV(["7,АНО Тест,ngo,RU-PER,Пермь,,,,,,,58.0105,56.2502"])
        #expect(named.rolledBack && named.problems.first?.reason.contains("removed by undoing entry \(entry.id)") == true, "\(named.problems)")
    }

    /// Every action the code names is one the table's CHECK takes (a new one needs its migration).
    @Test func theAuditLogTakesEveryAction() async throws {
        let t = try TestDatabase()
        try await t.database.writer.write { db in
            for action in AuditAction.allCases {
                try AuditSQL.append(db, actor: "test", action: action, organisationID: nil, before: nil, after: nil)
            }
        }
        #expect(try t.count("SELECT count(DISTINCT action) FROM audit_log") == AuditAction.allCases.count)
    }

    @Test func theAuditLogFiltersByActionAndTime() async throws {
        let t = try TestDatabase(demo: true)
        _ = try t.database.createToken(name: "perm", role: .editor, region: nil, expiresAt: nil, by: "cli:test")
        try await t.database.writer.write { db in
            try db.execute(sql: "UPDATE audit_log SET at = '2026-11-30T23:59:59Z' WHERE action = 'import'")
            try db.execute(sql: "UPDATE audit_log SET at = '2026-12-01T00:00:00Z' WHERE action = 'token-create'")
        }
        func actions(_ q: AuditQuery) async throws -> [String] { try await t.database.auditLog(q).entries.map(\.action) }
        #expect(try await actions(AuditQuery(action: .tokenCreate)) == ["token-create"])
        #expect(try await actions(AuditQuery(action: .delete)) == [])
        #expect(try await actions(AuditQuery(since: "2026-12-01T00:00:00Z")) == ["token-create"])
        #expect(try await actions(AuditQuery(until: "2026-11-30T23:59:59Z")) == ["import"])
        #expect(try await actions(AuditQuery(since: try AuditQuery.time("2026-11-30", name: "since"),
                                             until: try AuditQuery.time("2026-11-30", name: "until"))) == ["import"])
        #expect(try await actions(AuditQuery(action: .import, since: "2026-12-01T00:00:00Z")) == [])
        let wrong = await Self.caught { _ = try AuditQuery.action("edit") }
        guard case .invalidParameter(let name, let reason)? = wrong else { Issue.record("\(String(describing: wrong))"); return }
        #expect(name == "action" && reason.contains("token-revoke"))
    }

    @Test func aTokenNameIsUsedOnce() async throws {
        let t = try TestDatabase()
        _ = try t.database.createToken(name: "perm", role: .editor, region: "RU-PER", expiresAt: nil, by: "cli:test")
        let same = await Self.caught { _ = try t.database.createToken(name: "perm", role: .admin, region: nil, expiresAt: nil, by: "cli:test") }
        #expect(Self.name(same) == "conflict")
        let padded = await Self.caught { _ = try t.database.createToken(name: " perm ", role: .admin, region: nil, expiresAt: nil, by: "cli:test") }
        #expect(Self.name(padded) == "conflict")
        #expect(try t.database.tokens().count == 1)
    }

    @Test func aTokenForAnUnknownRegionIsRefused() async throws {
        let t = try TestDatabase()
        let error = await Self.caught { _ = try t.database.createToken(name: "nowhere", role: .editor, region: "RU-XX", expiresAt: nil, by: "cli:test") }
        guard case .invalidParameter(let name, _)? = error else {
            Issue.record("expected invalidParameter, got \(String(describing: error))")
            return
        }
        #expect(name == "region")
        #expect(try t.database.tokens().isEmpty)
    }

    // MARK: - Creating

    @Test func createAssignsANewIDAndRecomputesTheDistance() async throws {
        let t = try TestDatabase(demo: true)
        let three = try await t.database.feature(id: 3)?.bytes
        // A stated id and distance are not the client's to choose.
        let record = Self.kudymkar(["id": "3", "distance_to_center_km": "1"])
        let edited = try await t.database.apply(.create(record), by: Self.admin, ifMatch: nil, kinds: Self.allKinds)
        #expect(edited.id == 24)
        let feature = try #require(edited.feature)
        #expect(feature.id == 24)
        #expect(edited.entityTag == EntityTag.of(feature.bytes))
        #expect(try await t.database.feature(id: 24)?.bytes == feature.bytes)
        #expect(try await t.database.feature(id: 3)?.bytes == three)
        let properties = try Self.properties(feature.bytes)
        #expect(abs((properties["distance_to_center_km"] as? Double ?? 0) - 145.5527) < 0.001)
        #expect(properties["region_code"] as? String == "59")
        #expect(properties["name"] as? String == "АНО «Новая среда»")
        #expect(try t.count("SELECT count(*) FROM organizations") == 24)

        let audit = try await t.database.auditLog(AuditQuery(organisationID: 24))
        #expect(audit.numberMatched == 1)
        #expect(audit.entries.first?.action == "create")
        #expect(audit.entries.first?.actor == "admin")
        #expect(audit.entries.first?.before == nil)
        #expect(audit.entries.first?.after == feature.bytes)
    }

    @Test func aCreatedIDIsNeverADeletedOrganisationsID() async throws {
        let t = try TestDatabase(demo: true)
        _ = try await t.database.apply(.delete(id: 23), by: Self.admin, ifMatch: try await Self.tag(t, 23), kinds: Self.allKinds)
        let first = try await t.database.apply(.create(Self.kudymkar()), by: Self.admin, ifMatch: nil, kinds: Self.allKinds)
        #expect(first.id == 24)
        _ = try await t.database.apply(.delete(id: 24), by: Self.admin, ifMatch: try #require(first.entityTag), kinds: Self.allKinds)
        let second = try await t.database.apply(.create(Self.kudymkar()), by: Self.admin, ifMatch: nil, kinds: Self.allKinds)
        #expect(second.id == 25)
    }

    // MARK: - Entity tags guard every change

    @Test func aStaleEntityTagChangesNothing() async throws {
        let t = try TestDatabase(demo: true)
        let (record, tag) = try await Self.patched(t, 22, #"{"properties":{"phone":"+7 342 000-00-00"}}"#)
        let before = try await t.database.feature(id: 22)?.bytes
        let audits = try Self.auditCount(t)
        for stale in [#""0000000000000000""#, "W/" + tag] {
            let error = await Self.caught {
                _ = try await t.database.apply(.update(id: 22, record), by: Self.admin, ifMatch: stale, kinds: Self.allKinds)
            }
            #expect(Self.name(error) == "preconditionFailed", "If-Match: \(stale)")
        }
        #expect(try await t.database.feature(id: 22)?.bytes == before)
        #expect(try Self.auditCount(t) == audits)

        // The tag as read goes through, and the change gets a new tag.
        let edited = try await t.database.apply(.update(id: 22, record), by: Self.admin, ifMatch: tag, kinds: Self.allKinds)
        #expect(edited.entityTag != tag)
        #expect(try Self.properties(edited.feature?.bytes)["phone"] as? String == "+7 342 000-00-00")
        #expect(try Self.auditCount(t) == audits + 1)
        // …after which the old tag is stale.
        let again = await Self.caught {
            _ = try await t.database.apply(.update(id: 22, record), by: Self.admin, ifMatch: tag, kinds: Self.allKinds)
        }
        #expect(Self.name(again) == "preconditionFailed")
    }

    @Test func aChangeWithoutAnEntityTagIsRefused() async throws {
        let t = try TestDatabase(demo: true)
        let (record, _) = try await Self.patched(t, 22, #"{"properties":{"phone":"+7 342 000-00-00"}}"#)
        let before = try await t.database.feature(id: 22)?.bytes
        for change in [OrganisationChange.update(id: 22, record), .replace(id: 22, record), .delete(id: 22)] {
            let error = await Self.caught { _ = try await t.database.apply(change, by: Self.admin, ifMatch: nil, kinds: Self.allKinds) }
            #expect(Self.name(error) == "preconditionRequired", "\(change.action)")
        }
        #expect(try await t.database.feature(id: 22)?.bytes == before)
        #expect(try Self.auditCount(t) == 1)  // the demo import's
    }

    @Test func anOrganisationOfAnotherCollectionIsNotFound() async throws {
        let t = try TestDatabase(demo: true)
        // Organisation 7 is a ТОС: not in the NGO collection.
        let tag = try await Self.tag(t, 7)
        let error = await Self.caught { _ = try await t.database.apply(.delete(id: 7), by: Self.admin, ifMatch: tag, kinds: [.ngo]) }
        #expect(Self.name(error) == "notFound")
        #expect(try await t.database.feature(id: 7) != nil)
    }

    // MARK: - Region scope

    @Test func aScopedEditorCannotChangeAnotherRegion() async throws {
        let t = try TestDatabase(demo: true)
        // Organisation 3 is in Yakutia.
        let (record, tag) = try await Self.patched(t, 3, #"{"properties":{"phone":"+7 4112 00-00-00"}}"#)
        let before = try await t.database.feature(id: 3)?.bytes
        for change in [OrganisationChange.update(id: 3, record), .replace(id: 3, record), .delete(id: 3)] {
            let error = await Self.caught { _ = try await t.database.apply(change, by: Self.permEditor, ifMatch: tag, kinds: Self.allKinds) }
            #expect(Self.name(error) == "forbidden", "\(change.action)")
        }
        let created = await Self.caught {
            _ = try await t.database.apply(.create(record), by: Self.permEditor, ifMatch: nil, kinds: Self.allKinds)
        }
        #expect(Self.name(created) == "forbidden")
        #expect(try await t.database.feature(id: 3)?.bytes == before)
        #expect(try t.count("SELECT count(*) FROM organizations") == 23)
        #expect(try Self.auditCount(t) == 1)
    }

    @Test func aScopedEditorCannotMoveAnOrganisationOut() async throws {
        let t = try TestDatabase(demo: true)
        let before = try await t.database.feature(id: 22)?.bytes
        let statedRegion = #"{"properties":{"region_iso":"RU-SA"}}"#
        // Without a stated region, the region is found again from the outlines.
        let movedPoint = #"{"geometry":{"type":"Point","coordinates":[129.7229,62.0311]}}"#
        let both = #"{"geometry":{"type":"Point","coordinates":[129.7229,62.0311]},"properties":{"region_iso":"RU-SA","settlement":"Якутск"}}"#
        // Yakutia stated for a point in Perm is refused for every writer; a move into Yakutia is
        // this token's to refuse.
        for (patch, refusal) in [(statedRegion, "invalidRecords"), (movedPoint, "forbidden"), (both, "forbidden")] {
            let (record, tag) = try await Self.patched(t, 22, patch)
            let error = await Self.caught {
                _ = try await t.database.apply(.update(id: 22, record), by: Self.permEditor, ifMatch: tag, kinds: Self.allKinds)
            }
            #expect(Self.name(error) == refusal, "\(patch)")
            if refusal == "forbidden" {  // regions by name, not by code alone
                #expect("\(error.map { "\($0)" } ?? "")".contains("in RU-SA Республика Саха (Якутия) (14), only in RU-PER Пермский край (59)"), "\(String(describing: error))")
            }
        }
        #expect(try await t.database.feature(id: 22)?.bytes == before)

        // Within its region the same editor may change it.
        let (record, tag) = try await Self.patched(t, 22, #"{"properties":{"settlement":"Кудымкар"}}"#)
        let edited = try await t.database.apply(.update(id: 22, record), by: Self.permEditor, ifMatch: tag, kinds: Self.allKinds)
        #expect(try Self.properties(edited.feature?.bytes)["settlement"] as? String == "Кудымкар")
    }

    /// A stated region is kept just over its simplified border, but a point far outside it is
    /// refused for every writer: no token may put an organisation of Perm Krai in Yakutsk.
    @Test func aScopedEditorCannotStateItsRegionForAPointElsewhere() async throws {
        let t = try TestDatabase(demo: true)
        let inYakutsk = Self.kudymkar(["settlement": "Якутск", "lat": "62.0311", "lon": "129.7229"])
        for editor in [Self.permEditor, Self.admin] {
            let error = await Self.caught {
                _ = try await t.database.apply(.create(inYakutsk), by: editor, ifMatch: nil, kinds: Self.allKinds)
            }
            #expect(Self.name(error) == "invalidRecords", "\(editor.name)")
            #expect("\(error.map { "\($0)" } ?? "")".contains("km outside it"), "\(editor.name)")
        }
        // Куеда, a Perm village just over the simplified outline (in Bashkortostan's): its own region's.
        let kueda = Self.kudymkar(["settlement": "Куеда", "lat": "56.4305", "lon": "55.59139"])
        let nearBorder = try await t.database.apply(.create(kueda), by: Self.permEditor, ifMatch: nil, kinds: Self.allKinds)
        #expect(try Self.properties(nearBorder.feature?.bytes)["region_iso"] as? String == "RU-PER")
    }

    @Test func aReplacementThatChangesNothingIsNotLogged() async throws {
        let t = try TestDatabase(demo: true)
        let (record, tag) = try await Self.patched(t, 22, "{}")
        let entries = try Self.auditCount(t)
        let edited = try await t.database.apply(.replace(id: 22, record), by: Self.admin, ifMatch: tag, kinds: Self.allKinds)
        #expect(edited.entityTag == tag)
        #expect(try Self.auditCount(t) == entries)
    }

    @Test func cliNamesAreReservedForTheCommandLine() throws {
        let t = try TestDatabase()
        #expect(throws: CivicMapError.self) { _ = try t.database.createToken(name: "cli:root", role: .admin, region: nil, expiresAt: nil, by: "cli:test") }
    }

    // MARK: - Validation and conflicts

    @Test(arguments: [
        (#"{"properties":{"founded_year":3000}}"#, "founded_year"),
        (#"{"properties":{"name":null}}"#, "name"),
        (#"{"properties":{"kind":"club"}}"#, "kind"),
        (#"{"properties":{"email":"not an address"}}"#, "email"),
    ])
    func anInvalidRecordIsRefusedAndNotAudited(patch: String, field: String) async throws {
        let t = try TestDatabase(demo: true)
        let (record, tag) = try await Self.patched(t, 22, patch)
        let before = try await t.database.feature(id: 22)?.bytes
        let error = await Self.caught { _ = try await t.database.apply(.update(id: 22, record), by: Self.admin, ifMatch: tag, kinds: Self.allKinds) }
        #expect(Self.name(error) == "invalidRecords")
        #expect(Self.fields(error).contains(field), "\(String(describing: error))")
        #expect(try await t.database.feature(id: 22)?.bytes == before)
        #expect(try Self.auditCount(t) == 1)
    }

    @Test func aNewOrganisationWithoutANameIsRefused() async throws {
        let t = try TestDatabase(demo: true)
        let error = await Self.caught {
            _ = try await t.database.apply(.create(Self.kudymkar(["name": ""])), by: Self.admin, ifMatch: nil, kinds: Self.allKinds)
        }
        #expect(Self.fields(error) == ["name"])
        #expect(try t.count("SELECT count(*) FROM organizations") == 23)
        #expect(try Self.auditCount(t) == 1)
    }

    @Test func aKindOutsideTheCollectionIsRefused() async throws {
        let t = try TestDatabase(demo: true)
        let error = await Self.caught {
            _ = try await t.database.apply(.create(Self.kudymkar(["kind": "tos"])), by: Self.admin, ifMatch: nil, kinds: [.ngo])
        }
        #expect(Self.fields(error) == ["kind"])
        #expect(try t.count("SELECT count(*) FROM organizations") == 23)
    }

    @Test func anOGRNOfAnotherOrganisationIsAConflict() async throws {
        let t = try TestDatabase(demo: true)
        let before = try await t.database.feature(id: 22)?.bytes
        let (record, tag) = try await Self.patched(t, 22, #"{"properties":{"ogrn":"\#(Self.takenOGRN)"}}"#)
        let updated = await Self.caught { _ = try await t.database.apply(.update(id: 22, record), by: Self.admin, ifMatch: tag, kinds: Self.allKinds) }
        #expect(Self.name(updated) == "conflict")
        let created = await Self.caught {
            _ = try await t.database.apply(.create(Self.kudymkar(["ogrn": Self.takenOGRN])), by: Self.admin, ifMatch: nil, kinds: Self.allKinds)
        }
        #expect(Self.name(created) == "conflict")
        #expect(try await t.database.feature(id: 22)?.bytes == before)
        #expect(try t.count("SELECT count(*) FROM organizations") == 23)
        #expect(try t.count("SELECT count(*) FROM organizations WHERE ogrn = '\(Self.takenOGRN)'") == 1)
        #expect(try Self.auditCount(t) == 1)
    }

    // MARK: - Deleting and the audit log

    @Test func deleteRemovesTheOrganisationAndKeepsItInTheLog() async throws {
        let t = try TestDatabase(demo: true)
        let stored = try #require(try await t.database.feature(id: 22))
        let edited = try await t.database.apply(.delete(id: 22), by: Self.admin, ifMatch: EntityTag.of(stored.bytes), kinds: Self.allKinds)
        #expect(edited.id == 22)
        #expect(edited.feature == nil)
        #expect(edited.entityTag == nil)
        #expect(try await t.database.feature(id: 22) == nil)
        #expect(try t.count("SELECT count(*) FROM organizations") == 22)

        let audit = try await t.database.auditLog(AuditQuery(organisationID: 22))
        #expect(audit.numberMatched == 2)  // and the demo import that added it
        #expect(audit.entries.last?.action == "import")
        let entry = try #require(audit.entries.first)
        #expect(entry.action == "delete")
        #expect(entry.actor == "admin")
        #expect(entry.organisationID == 22)
        #expect(entry.before == stored.bytes)
        #expect(entry.after == nil)

        let again = await Self.caught { _ = try await t.database.apply(.delete(id: 22), by: Self.admin, ifMatch: "*", kinds: Self.allKinds) }
        #expect(Self.name(again) == "notFound")
    }

    @Test func auditLogFiltersByOrganisationAndActorNewestFirst() async throws {
        let t = try TestDatabase(demo: true)
        let alice = Editor(name: "alice", role: .editor, regionCode: nil)
        let bob = Editor(name: "bob", role: .editor, regionCode: nil)
        let a = try await Self.patched(t, 22, #"{"properties":{"phone":"1"}}"#)
        let first = try await t.database.apply(.update(id: 22, a.record), by: alice, ifMatch: a.tag, kinds: Self.allKinds)
        let b = try await Self.patched(t, 22, #"{"properties":{"phone":"2"}}"#)
        #expect(b.tag == first.entityTag)
        _ = try await t.database.apply(.update(id: 22, b.record), by: bob, ifMatch: b.tag, kinds: Self.allKinds)
        let c = try await Self.patched(t, 3, #"{"properties":{"phone":"3"}}"#)
        _ = try await t.database.apply(.update(id: 3, c.record), by: alice, ifMatch: c.tag, kinds: Self.allKinds)

        // An organisation's history holds the imports that wrote it too: here the demo import, first.
        let ofTwentyTwo = try await t.database.auditLog(AuditQuery(organisationID: 22))
        #expect(ofTwentyTwo.numberMatched == 3)
        #expect(ofTwentyTwo.entries.map(\.actor) == ["bob", "alice", "cli"])
        #expect(ofTwentyTwo.entries.map(\.action) == ["update", "update", "import"])
        #expect(ofTwentyTwo.entries[0].before == ofTwentyTwo.entries[1].after)
        #expect(try Self.properties(ofTwentyTwo.entries[0].after)["phone"] as? String == "2")

        let ofAlice = try await t.database.auditLog(AuditQuery(actor: "alice"))
        #expect(ofAlice.numberMatched == 2)
        #expect(ofAlice.entries.map(\.organisationID) == [3, 22])

        let firstPage = try await t.database.auditLog(AuditQuery(actor: "alice", limit: 1))
        #expect(firstPage.numberMatched == 2)
        #expect(firstPage.entries.map(\.organisationID) == [3])
        let secondPage = try await t.database.auditLog(AuditQuery(actor: "alice", limit: 1, offset: 1))
        #expect(secondPage.entries.map(\.organisationID) == [22])

        #expect(try await t.database.auditLog(AuditQuery(organisationID: 22, actor: "bob")).numberMatched == 1)
        #expect(try await t.database.auditLog(AuditQuery(actor: "carol")).numberMatched == 0)
        let everything = try await t.database.auditLog(AuditQuery())
        #expect(everything.numberMatched == 4)  // with the demo import
        #expect(everything.entries.map(\.id) == everything.entries.map(\.id).sorted(by: >))
        #expect(everything.entries.last?.action == "import")
    }

    @Test func anImportWritesOneAuditEntry() async throws {
        let t = try TestDatabase()
        let header = "id,name,kind,region_iso,settlement,lat,lon"
        let path = try t.file("coordinators.csv", [
            header, "1,АНО «Среда»,ngo,RU-PER,Кудымкар,59.0152,54.6532", "2,ТОС «Заря»,tos,RU-SA,Якутск,62.0311,129.7229",
        ].joined(separator: "\n") + "\n")
        let summary = try t.database.importFiles([path], currentYear: 2026, actor: "coordinator")
        #expect(summary.added == 2)

        let audit = try await t.database.auditLog(AuditQuery())
        #expect(audit.numberMatched == 1)
        let entry = try #require(audit.entries.first)
        #expect(entry.action == "import")
        #expect(entry.actor == "coordinator")
        #expect(entry.organisationID == nil)
        #expect(entry.before == nil)
        let summaryBytes = try #require(entry.after)
        let after = try #require(try JSONSerialization.jsonObject(with: Data(summaryBytes)) as? [String: Any])
        #expect(after["added"] as? Int == 2)
        #expect(after["updated"] as? Int == 0)
        #expect(after["files"] as? [String] == ["coordinators.csv"])

        // Imports that write nothing leave no entry.
        let dryRun = try t.database.importFiles([path], options: ImportOptions(dryRun: true), currentYear: 2026)
        #expect(dryRun.rolledBack)
        let bad = try t.importCSV(["3,Bad,ngo,RU-PER,,,,,,,,95,54.6"])
        #expect(bad.rolledBack)
        #expect(try await t.database.auditLog(AuditQuery()).numberMatched == 1)
    }

    /// A consultant sends back last month's spreadsheet: its rows carry the `updated_at` of the
    /// copy they were exported from.
    @Test func anOldCopyNeitherUndoesALaterChangeNorBringsBackTheDeleted() async throws {
        let t = try TestDatabase(demo: true)
        _ = try await t.database.apply(.delete(id: 22), by: Self.admin, ifMatch: "*", kinds: Self.allKinds)
        let stored = try Self.properties(try await t.database.feature(id: 21)?.bytes)
        let point = try #require(try await t.database.organisation(id: 21)?.location)
        let storedAt = try #require(stored["updated_at"] as? String)
        func row(_ id: Int64, phone: String, copiedAt: String) -> String {
            "\(id),\"\(stored["name"] as! String)\",\(stored["kind"] as! String),\(point.latitude),\(point.longitude),\(phone),\(copiedAt)"
        }
        func importing(_ rows: String...) throws -> ImportSummary {
            let path = try t.file("copy-\(UUID().uuidString).csv", (["id,name,kind,lat,lon,phone,updated_at"] + rows).joined(separator: "\n") + "\n")
            return try t.database.importFiles([path], currentYear: 2026)
        }
        let storedPhone = stored["phone"] as? String ?? ""

        let old = try importing(row(21, phone: "111", copiedAt: "2000-01-01T00:00:00Z"), row(22, phone: "", copiedAt: storedAt))
        #expect(old.rolledBack)
        #expect(old.problems.map(\.field).sorted() == ["id", "updated_at"], "\(old.problems)")
        #expect(old.problems.contains { $0.field == "id" && $0.reason.contains("deleted") && $0.reason.contains("by admin") })
        #expect(try await t.database.feature(id: 22) == nil)
        #expect(try Self.properties(try await t.database.feature(id: 21)?.bytes)["phone"] as? String == stored["phone"] as? String)

        // An old copy that changes nothing is no conflict; a time that is not an export's is refused.
        #expect(try importing(row(21, phone: storedPhone, copiedAt: "2000-01-01T00:00:00Z")).unchanged == 1)
        #expect(try importing(row(21, phone: "111", copiedAt: "07.12.2026 15:00")).problems.map(\.field) == ["updated_at"])
        // A copy of the stored version changes it; so does a row whose updated_at was emptied.
        #expect(try importing(row(21, phone: "111", copiedAt: storedAt)).updated == 1)
        #expect(try importing(row(21, phone: "222", copiedAt: "")).updated == 1)
        #expect(try Self.properties(try await t.database.feature(id: 21)?.bytes)["phone"] as? String == "222")
    }

    // MARK: - Backups

    @Test func backupIsAWholeCopyAndNeverOverwrites() async throws {
        let t = try TestDatabase(demo: true)
        let path = t.directory.appendingPathComponent("backup.sqlite").path
        try t.database.backup(to: path)
        #expect(FileManager.default.fileExists(atPath: path))
        #expect(!FileManager.default.fileExists(atPath: path + ".partial"))
        // Phones and e-mails: readable by its owner only.
        #expect(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int == 0o600)

        let copy = try CivicMapDatabase(path: path)
        let copied = try await copy.writer.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM organizations") }
        #expect(copied == (try t.count("SELECT count(*) FROM organizations")))
        #expect(copied == 23)
        #expect(try await copy.feature(id: 22)?.bytes == (try await t.database.feature(id: 22)?.bytes))

        let written = FileManager.default.contents(atPath: path)
        #expect(written != nil)
        let error = await Self.caught { try t.database.backup(to: path) }
        guard case .invalidParameter(let name, _)? = error else {
            Issue.record("expected invalidParameter, got \(String(describing: error))")
            return
        }
        #expect(name == "destination")
        #expect(FileManager.default.contents(atPath: path) == written)
        #expect(!FileManager.default.fileExists(atPath: path + ".partial"))
    }
}
