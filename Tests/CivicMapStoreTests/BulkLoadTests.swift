import CivicMapCore
import Foundation
import GRDB
import Synchronization
import Testing

@testable import CivicMapStore

/// The bulk import path must leave exactly what the row-by-row path leaves: the same schema,
/// R*Tree entries, categories, distances and Features.
@Suite struct BulkLoadTests {
    static let demo = TestDatabase.repository.appendingPathComponent("data/organizations.geojson").path

    /// What an import leaves behind, without its time stamps.
    static func snapshot(_ t: TestDatabase) throws -> [String] {
        try t.database.writer.read { db in
            let queries = [
                "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY name",
                "SELECT pkid, xmin, xmax, ymin, ymax FROM idx_organizations_geom ORDER BY pkid",
                "SELECT category, organization_id FROM organization_categories ORDER BY 1, 2",
                """
                SELECT id, kind, name, region_code, settlement, address, inn, ogrn, categories, founded_year, website, email, phone,
                       description, source, lat, lon, distance_to_centre_m, search_text, AsText(geom), updated_at >= created_at
                FROM organizations ORDER BY id
                """,
                "SELECT * FROM programmes ORDER BY organization_id, position",
                // Each import's own time stamps masked.
                """
                SELECT f.key, f.id, f.kind, replace(replace(CAST(f.json AS TEXT), o.created_at, '…'), o.updated_at, '…')
                FROM features f JOIN organizations o USING (id) ORDER BY key
                """,
                "SELECT action, organization_id FROM audit_log ORDER BY id",
                "SELECT id FROM stale_features",
                "PRAGMA integrity_check",
            ]
            return try queries.flatMap { sql in try Row.fetchAll(db, sql: sql).map { "\(sql.prefix(24)): \($0)" } }
        }
    }

    @Test func bulkImportLeavesWhatTheRowByRowImportLeaves() throws {
        let rowwise = try TestDatabase(), bulk = try TestDatabase()
        let a = try rowwise.database.importFiles([Self.demo], options: ImportOptions(bulkThreshold: .max), currentYear: 2026)
        let b = try bulk.database.importFiles([Self.demo], options: ImportOptions(bulkThreshold: 1), currentYear: 2026)
        #expect(a.added == 23 && b.added == 23 && b.problems.isEmpty)
        let expected = try Self.snapshot(rowwise), got = try Self.snapshot(bulk)
        let diff = got.difference(from: expected)
        #expect(diff.isEmpty, "\(diff.prefix(4))")
        #expect(try bulk.count("SELECT count(*) FROM idx_organizations_geom") == 23)
        #expect(try bulk.count("SELECT count(*) FROM organization_categories") > 0)
    }

    /// Into an empty table the bulk path skips staging (`writeIntoEmpty`); with one row stored it
    /// stages, resolves and upserts. Both must equal the row-by-row path, ids numbered included.
    @Test(arguments: [false, true]) func bothBulkPathsLeaveWhatTheRowByRowImportLeaves(oneRowStored: Bool) async throws {
        let rows = [
            "5,АНО «Пятая»,ngo,RU-PER,Пермь,ул. Ленина 1,,,культура;спорт,2001,https://example.org,58.01,56.25",
            ",Ресурсный центр,internship_site,RU-BA,Уфа,,0274062111,1020202555240,поддержка НКО,,,54.74,55.97",
            ",ТОС «Заречный»,tos,RU-BA,Бирск,,,,ТОС и местные сообщества,,,55.42,55.53",
            "40,Фонд «Север»,ngo,RU-SA,Якутск,,,,дети и молодежь,,,62.03,129.73",
            ",Клуб «Дом»,ngo,RU-SA,Нюрба,,,,,,,63.28,118.33",
        ]
        let rowwise = try TestDatabase(), bulk = try TestDatabase()
        for t in [rowwise, bulk] {
            _ = try t.importCSV(["41,Бывшая,ngo,RU-PER,Пермь,,,,,,,58.0,56.2"], options: ImportOptions(bulkThreshold: .max))
            if !oneRowStored {
                // A deleted organisation's id is never given again, even into an empty table.
                let admin = Editor(name: "admin", role: .admin, regionCode: nil)
                _ = try await t.database.apply(.delete(id: 41), by: admin, ifMatch: try await EditingStoreTests.tag(t, 41), kinds: try t.database.kindInfos().map(\.kind))
            }
        }
        let a = try rowwise.importCSV(rows, options: ImportOptions(bulkThreshold: .max))
        let b = try bulk.importCSV(rows, options: ImportOptions(bulkThreshold: 1))
        #expect(a.added == 5 && b.added == 5 && b.problems.isEmpty)
        let diff = try Self.snapshot(bulk).difference(from: Self.snapshot(rowwise))
        #expect(diff.isEmpty, "\(diff.prefix(4))")
        #expect(try bulk.count("SELECT max(id) FROM organizations") == 44)
        #expect(try bulk.count("SELECT count(*) FROM features") == 5 + (oneRowStored ? 1 : 0))
    }

    /// Every content column an import reads, in the order `storedRows` writes them.
    static let allColumns = "id,name,kind,region_iso,settlement,address,inn,ogrn,categories,founded_year,website,email,phone,description,source,lat,lon"

    /// The stored rows `ids` as CSV lines under `allColumns`, each passed through `change`, so
    /// that a row left alone imports back unchanged.
    static func storedRows(_ t: TestDatabase, ids: ClosedRange<Int>, change: (Int, inout [String]) -> Void) throws -> [String] {
        try t.database.writer.read { db in
            try Row.fetchAll(db, sql: """
                SELECT o.id, o.name, o.kind, r.iso, o.settlement, o.address, o.inn, o.ogrn,
                       (SELECT group_concat(value, ';') FROM json_each(o.categories)), CAST(o.founded_year AS TEXT), o.website,
                       o.email, o.phone, o.description, o.source, CAST(o.lat AS TEXT), CAST(o.lon AS TEXT)
                FROM organizations o JOIN regions r ON r.code = o.region_code WHERE o.id BETWEEN ? AND ? ORDER BY o.id
                """, arguments: [ids.lowerBound, ids.upperBound]).map { row in
                var fields = (1..<17).map { (row[$0] as String?) ?? "" }
                fields.insert(String(row[0] as Int64), at: 0)
                change(row[0], &fields)
                return fields.map { "\"" + $0.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }.joined(separator: ",")
            }
        }
    }

    /// A re-import that changes many stored rows (an address, categories, a move, a change of region,
    /// kind changes both ways, the one away from a site dropping its programmes), leaves two alone
    /// and adds two: the bulk path, which sets the update triggers aside too, must leave what the
    /// row-by-row path leaves, and every Feature must be what the API encodes from its row.
    @Test func aBulkUpdateLeavesWhatTheRowByRowUpdateLeaves() async throws {
        let rowwise = try TestDatabase(demo: true), bulk = try TestDatabase(demo: true)
        #expect(try bulk.count("SELECT count(*) FROM programmes WHERE organization_id = 1") == 1)
        #expect(try bulk.count("SELECT count(*) FROM organizations WHERE id = 12 AND kind = 'ngo'") == 1)
        let rows = try Self.storedRows(bulk, ids: 1...12) { id, f in
            switch id {
            case 1: f[2] = "ngo"  // an internship site no more: its programmes go
            case 2: f[8] = "культура;спорт"
            case 3: f[15] = String(Double(f[15])! + 0.01)
            case 4: f[5] += ", корп. 2"
            case 5: f[1] += " (новое)"
            case 6: f[10] = "https://example.org/new"
            case 7: f[4] = "Новый посёлок"
            case 8: f[13] = "Новое описание"
            case 10: f[3] = "RU-MOW"; f[4] = "Москва"; f[15] = "55.75"; f[16] = "37.62"  // moved to Moscow: measured from its centre now
            case 12: f[2] = "internship_site"
            default: break  // 9 and 11 stay as they are
            }
        } + [
            ",АНО «Новая»,ngo,RU-PER,Пермь,,,,культура,,,,,,,58.01,56.25",
            ",ТОС «Новый»,tos,RU-BA,Бирск,,,,ТОС и местные сообщества,,,,,,,55.42,55.53",
        ]
        // Created long ago, so an updated row's Feature shows it apart from the import's time.
        for t in [rowwise, bulk] {
            try await t.database.writer.write { db in
                try db.execute(sql: "UPDATE organizations SET created_at = '2020-01-01T00:00:00Z', updated_at = '2020-01-01T00:00:00Z'")
                try FeatureCache.refresh(db)
            }
        }
        func reimport(_ t: TestDatabase, threshold: Int) throws -> ImportSummary {
            let path = try t.file("changed.csv", ([Self.allColumns] + rows).joined(separator: "\n") + "\n")
            return try t.database.importFiles([path], options: ImportOptions(bulkThreshold: threshold), currentYear: 2026)
        }
        let a = try reimport(rowwise, threshold: .max), b = try reimport(bulk, threshold: 1)
        #expect(b.problems.isEmpty, "\(b.problems)")
        for summary in [a, b] { #expect(summary.added == 2 && summary.updated == 10 && summary.unchanged == 2, "\(summary)") }
        // Only the bulk path rebuilds, and reports the triggers it replayed.
        #expect(b.seconds.contains { $0.phase == "triggers" } && !a.seconds.contains { $0.phase == "triggers" })
        let diff = try Self.snapshot(bulk).difference(from: Self.snapshot(rowwise))
        #expect(diff.isEmpty, "\(diff.prefix(4))")
        #expect(try bulk.count("SELECT count(*) FROM programmes WHERE organization_id = 1") == 0)
        #expect(try bulk.count("SELECT count(*) FROM organization_categories WHERE organization_id = 2 AND category = 'спорт'") == 1)
        #expect(try bulk.count("SELECT count(*) FROM organizations WHERE id = 10 AND region_code = '77' AND distance_to_centre_m < 1e3") == 1)
        // The rows left alone keep their time stamps; the others show the import's.
        #expect(try bulk.count("SELECT count(*) FROM organizations WHERE id IN (9, 11) AND updated_at = '2020-01-01T00:00:00Z'") == 2)
        #expect(try bulk.count("SELECT count(*) FROM organizations WHERE created_at = '2020-01-01T00:00:00Z' AND updated_at > created_at") == 10)
        // The snapshots mask time stamps, and both paths encode updated rows from memory: each
        // stored Feature must equal what the API encodes from its row now.
        #expect(try bulk.count("SELECT count(*) FROM stale_features") == 0)
        let ids = try await bulk.database.writer.read { db in try Int64.fetchAll(db, sql: "SELECT id FROM organizations") }
        for id in ids {
            #expect(try FeatureCacheTests.stored(bulk, id) == (try await FeatureCacheTests.fresh(bulk, id)), "feature \(id)")
        }
    }

    /// A GeoJSON re-import that changes internship sites' programmes (one site gains a programme and
    /// a new description, one loses all its programmes and nothing else) and another row's
    /// description: the bulk path must replace programmes as the row-by-row path does, and the
    /// sites' Features, which list their programmes, must follow.
    @Test func aBulkUpdateOfProgrammesLeavesWhatTheRowByRowUpdateLeaves() async throws {
        let demo = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: Self.demo))) as? [String: Any])
        let all = try #require(demo["features"] as? [[String: Any]])
        func programmes(_ feature: [String: Any]) -> [Any] { (feature["properties"] as? [String: Any])?["programmes"] as? [Any] ?? [] }
        // The two sites with programmes and one other row: two changed rows of three go the bulk way.
        var features = all.filter { !programmes($0).isEmpty } + [try #require(all.first { programmes($0).isEmpty })]
        try #require(features.count == 3)
        func geojson() throws -> String {
            String(decoding: try JSONSerialization.data(withJSONObject: ["type": "FeatureCollection", "features": features]), as: UTF8.self)
        }
        let rowwise = try TestDatabase(), bulk = try TestDatabase()
        let before = try geojson()
        for t in [rowwise, bulk] { _ = try t.database.importFiles([try t.file("sites.geojson", before)], currentYear: 2026) }
        var first = features[0]["properties"] as! [String: Any], second = features[1]["properties"] as! [String: Any]
        var third = features[2]["properties"] as! [String: Any]
        first["programmes"] = programmes(features[0]) + [["title": "Зимняя школа НКО", "length_days": 2, "starts_on": "2027-02-01"]]
        first["description"] = "Новое описание площадки"
        second["programmes"] = [Any]()
        third["description"] = "Новое описание"
        (features[0]["properties"], features[1]["properties"], features[2]["properties"]) = (first, second, third)
        let ids = try features.prefix(2).map { try #require($0["id"] as? Int64) }
        let after = try geojson()
        for (t, threshold) in [(rowwise, Int.max), (bulk, 1)] {
            let summary = try t.database.importFiles([try t.file("programmes.geojson", after)], options: ImportOptions(bulkThreshold: threshold), currentYear: 2026)
            #expect(summary.problems.isEmpty && summary.updated == 3 && summary.unchanged == 0, "\(summary)")
            #expect(summary.seconds.contains { $0.phase == "triggers" } == (threshold == 1))
        }
        let diff = try Self.snapshot(bulk).difference(from: Self.snapshot(rowwise))
        #expect(diff.isEmpty, "\(diff.prefix(4))")
        #expect(try bulk.count("SELECT count(*) FROM programmes WHERE organization_id = \(ids[0]) AND title = 'Зимняя школа НКО'") == 1)
        #expect(try bulk.count("SELECT count(*) FROM programmes WHERE organization_id = \(ids[1])") == 0)
        #expect(try bulk.count("SELECT count(*) FROM stale_features") == 0)
        for id in ids {
            let stored = try #require(try FeatureCacheTests.stored(bulk, id))
            #expect(stored == (try await FeatureCacheTests.fresh(bulk, id)), "feature \(id)")
            #expect(String(decoding: stored, as: UTF8.self).contains("Зимняя школа НКО") == (id == ids[0]))
        }
    }

    /// Rebuilding pays from an eighth of the stored rows written, and never below the threshold.
    @Test func bulkPathRunsFromAnEighthOfTheStoredRows() throws {
        let t = try TestDatabase(demo: true)
        // 23 stored rows; (written, threshold).
        let bulk = try t.database.writer.read { db in
            try [(2, 1), (3, 1), (3, 4)].map { try ImportSQL.isBulk(written: $0.0, bulkThreshold: $0.1, in: db) }
        }
        #expect(bulk == [false, true, false])
    }

    @Test func aSmallImportIntoManyRowsGoesRowByRow() throws {
        let t = try TestDatabase(demo: true)
        // 2 new rows against 23 stored: row by row, even with a threshold of 1; the triggers must still be there.
        let summary = try t.importCSV([
            ",АНО «Новая 1»,ngo,RU-PER,Пермь,,,,культура,,,58.01,56.25",
            ",АНО «Новая 2»,ngo,RU-PER,Кудымкар,,,,спорт,,,59.0167,54.65",
        ], options: ImportOptions(bulkThreshold: 1))
        #expect(summary.added == 2)
        #expect(try t.count("SELECT count(*) FROM idx_organizations_geom") == 25)
        #expect(try t.count("SELECT count(*) FROM sqlite_master WHERE name = 'gii_organizations_geom'") == 1)
        #expect(try t.count("SELECT count(*) FROM organization_categories WHERE category = 'спорт'") >= 1)
    }

    @Test func aBulkImportRolledBackKeepsTheSchemaWhole() throws {
        let t = try TestDatabase()
        let before = try Self.snapshot(t)
        // A dry run writes everything, indexes dropped and rebuilt, then rolls the transaction back.
        let summary = try t.database.importFiles([Self.demo], options: ImportOptions(dryRun: true, bulkThreshold: 1), currentYear: 2026)
        #expect(summary.rolledBack && summary.added == 23)
        #expect(try Self.snapshot(t) == before)
        #expect(try t.count("SELECT count(*) FROM sqlite_master WHERE name = 'organizations_overview'") == 1)
    }

    /// A first big import writes through a rollback journal (each page once, not to the WAL and
    /// again by the checkpoint), which undoes a failure as WAL would, and the file ends in WAL.
    @Test func aFirstBulkImportGoesThroughARollbackJournalAndEndsInWAL() throws {
        let t = try TestDatabase()
        let before = try Self.snapshot(t)
        struct Failure: Error {}
        #expect(throws: Failure.self) {
            try t.database.withJournalForImport(rows: 1, options: ImportOptions(bulkThreshold: 1)) {
                try t.database.writer.write { db in
                    #expect(try String.fetchOne(db, sql: "PRAGMA journal_mode") == "delete")
                    try db.execute(sql: "CREATE TABLE scratch (x); INSERT INTO scratch VALUES (1)")
                    throw Failure()
                }
            }
        }
        #expect(try Self.snapshot(t) == before)
        #expect(try t.database.writer.read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") } == "wal")
        let summary = try t.database.importFiles([Self.demo], options: ImportOptions(bulkThreshold: 1), currentYear: 2026)
        #expect(summary.added == 23 && !summary.rolledBack)
        #expect(try t.database.writer.read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") } == "wal")
    }

    /// Only a first import leaves WAL: a server or backup started during an import into stored
    /// rows would otherwise wait for its commit.
    @Test func anImportIntoStoredRowsStaysInWAL() throws {
        let t = try TestDatabase(demo: true)  // 23 rows
        let mode = try t.database.withJournalForImport(rows: 23, options: ImportOptions(bulkThreshold: 1)) {
            try t.database.writer.write { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") }
        }
        #expect(mode == "wal")
    }

    /// SQLite leaves WAL only for the sole connection: beside another one, the import stays in WAL.
    @Test func aFirstBulkImportBesideAnotherConnectionStaysInWAL() throws {
        let t = try TestDatabase()
        let other = try DatabaseQueue(path: t.directory.appendingPathComponent("test.sqlite").path)
        #expect(try other.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM organizations") } == 0)
        let mode = try t.database.withJournalForImport(rows: 1, options: ImportOptions(bulkThreshold: 1)) {
            try t.database.writer.write { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") }
        }
        #expect(mode == "wal")
        let summary = try t.database.importFiles([Self.demo], options: ImportOptions(bulkThreshold: 1), currentYear: 2026)
        #expect(summary.added == 23)
        #expect(try other.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM organizations") } == 23)
    }

    /// While a first import holds the file with its rollback journal, a server or command that
    /// opens the database waits for the commit instead of failing at its switch to WAL.
    @Test func openingWaitsForAFirstImportsCommit() throws {
        let t = try TestDatabase()
        let path = t.directory.appendingPathComponent("test.sqlite").path
        let opening = DispatchGroup()
        let outcome = Mutex<(error: String?, waited: TimeInterval)>((nil, 0))
        try t.database.withJournalForImport(rows: 1, options: ImportOptions(bulkThreshold: 1)) {
            try t.database.writer.write { db in
                try db.execute(sql: "CREATE TABLE scratch (x); INSERT INTO scratch VALUES (1)")
                let started = Date()
                DispatchQueue.global().async(group: opening) {
                    do {
                        let other = try CivicMapDatabase(path: path)
                        let count = try other.writer.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM scratch") }
                        outcome.withLock { $0 = (count == 1 ? nil : "saw \(String(describing: count)) rows", Date().timeIntervalSince(started)) }
                    } catch {
                        outcome.withLock { $0 = ("\(error)", Date().timeIntervalSince(started)) }
                    }
                }
                Thread.sleep(forTimeInterval: 0.5)  // the import's work, with the file locked
            }
        }
        opening.wait()
        let result = outcome.withLock { $0 }
        #expect(result.error == nil)
        #expect(result.waited >= 0.4)
    }
}
