import CivicMapCore
import Foundation
import GRDB
import Testing

@testable import CivicMapStore

@Suite("Precomputed GeoJSON Features")
struct FeatureCacheTests {
    /// What the API would write if it encoded the row now (the slow path).
    static func fresh(_ t: TestDatabase, _ id: Int64) async throws -> [UInt8] {
        let o = try #require(try await t.database.organisation(id: id))
        return EncodedFeature(o).bytes
    }

    static func stored(_ t: TestDatabase, _ id: Int64) throws -> [UInt8]? {
        try t.database.writer.read { db in try Data.fetchOne(db, sql: "SELECT json FROM features WHERE id = ?", arguments: [id]) }.map { [UInt8]($0) }
    }

    @Test func everyImportedRowIsEncodedAsTheAPIWouldEncodeIt() async throws {
        let t = try TestDatabase(demo: true)
        #expect(try t.count("SELECT count(*) FROM stale_features") == 0)
        let ids = try await t.database.writer.read { db in try Int64.fetchAll(db, sql: "SELECT id FROM organizations") }
        #expect(ids.count > 20)
        for id in ids {
            #expect(try Self.stored(t, id) == (try await Self.fresh(t, id)), "feature \(id)")
            #expect(try await t.database.feature(id: id)?.bytes == (try await Self.fresh(t, id)))
        }
        // A page and an export give the same bytes as encoding the organisations.
        let q = try FeatureQueryParser(kinds: [.ngo, .tos, .internshipSite], regions: t.database.regionDirectory())
            .parse([("region_iso", "RU-SA"), ("sortby", "-name")], collectionKinds: [.ngo, .tos, .internshipSite])
        let page = try await t.database.features(matching: q)
        let slow = try await t.database.organisations(matching: q)
        #expect(page.numberMatched == slow.numberMatched)
        #expect(page.features.map(\.bytes) == slow.organisations.map { EncodedFeature($0).bytes })
        var exported: [[UInt8]] = []
        for try await chunk in try await t.database.featureChunks(matching: q, chunkSize: 4) { exported += chunk.map(\.bytes) }
        #expect(exported == page.features.map(\.bytes))
    }

    @Test func aChangeByAnotherWriterMarksTheFeatureStaleAndReadsStayRight() async throws {
        let t = try TestDatabase(demo: true)
        // Another process (an older binary, a SQL console) renames and moves a row.
        try await t.database.writer.write { db in
            try db.execute(sql: "UPDATE organizations SET name = 'Новое имя', lat = 59.0, lon = 54.6 WHERE id = 20")
        }
        #expect(try Self.stored(t, 20) == nil)
        let feature = try #require(try await t.database.feature(id: 20))
        #expect(String(decoding: feature.bytes, as: UTF8.self).contains("Новое имя"))
        #expect(feature.bytes == (try await Self.fresh(t, 20)))
        // The next write through the store refreshes it.
        try t.database.loadRegions(RegionReader.read(csvPath: TestDatabase.repository.path + "/data/regions.csv", outlinesPath: nil), by: "cli:test")
        #expect(try Self.stored(t, 20) == (try await Self.fresh(t, 20)))
    }

    @Test func programmesAndRegionNamesReachTheStoredFeatures() async throws {
        let t = try TestDatabase(demo: true)
        try await t.database.writer.write { db in
            try db.execute(sql: "DELETE FROM programmes WHERE organization_id = 1")
            try db.execute(sql: "UPDATE regions SET name_ru = 'Якутия' WHERE code = '14'")
        }
        #expect(try t.count("SELECT count(*) FROM stale_features WHERE id IN (SELECT id FROM organizations WHERE region_code = '14')") == (try t.count("SELECT count(*) FROM organizations WHERE region_code = '14'")))
        #expect(try t.count("SELECT count(*) FROM features WHERE id IN (SELECT id FROM organizations WHERE region_code = '14')") == 0)
        let site = try #require(try await t.database.feature(id: 1))
        let text = String(decoding: site.bytes, as: UTF8.self)
        #expect(text.contains("\"programmes\":[]") && text.contains("\"region_name\":\"Якутия\""))
    }

    /// A bulk import queues updated rows without deleting their Features: the refresh overwrites
    /// one stored under its key, and moves one stored under another key.
    @Test func aRefreshOverwritesAQueuedFeatureStillStored() async throws {
        let t = try TestDatabase(demo: true)
        try await t.database.writer.write { db in
            try db.execute(sql: """
                UPDATE features SET json = CAST('{}' AS BLOB) WHERE id = 2;
                UPDATE features SET key = (SELECT max(key) + 1 FROM features), json = CAST('{}' AS BLOB) WHERE id = 3;
                INSERT INTO stale_features (id) VALUES (2), (3);
                """)
            #expect(try FeatureCache.refresh(db) == 2)
        }
        for id: Int64 in [2, 3] {
            #expect(try Self.stored(t, id) == (try await Self.fresh(t, id)), "feature \(id)")
            #expect(try t.count("SELECT count(*) FROM features WHERE id = \(id)") == 1)
        }
        let keyed = try await t.database.writer.read { db in try Int64.fetchOne(db, sql: "SELECT key FROM features WHERE id = 3") }
        let o = try #require(try await t.database.organisation(id: 3))
        #expect(keyed == FeatureCache.key(o))
    }

    @Test func aNewEncoderFormatRedoesEveryFeature() throws {
        let t = try TestDatabase(demo: true)
        try t.database.writer.write { db in
            try db.execute(sql: "UPDATE features SET json = CAST('{}' AS BLOB)")
            try db.execute(sql: "UPDATE feature_cache SET format = 0")
        }
        let reopened = try CivicMapDatabase(path: t.directory.appendingPathComponent("test.sqlite").path)
        #expect(try reopened.writer.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM features WHERE length(json) >= 10") } == (try t.count("SELECT count(*) FROM organizations")))
    }
}

@Suite("Features encoded by the import")
struct ImportFeatureTests {
    /// The import encodes new rows before inserting them; what it wrote must equal what the API
    /// encodes from the stored row, for plain rows, sites, and rows updated by a second import.
    @Test func importedFeaturesEqualFreshOnes() async throws {
        let t = try TestDatabase()
        let first = try t.importCSV([
            ",АНО «Проектная среда»,ngo,RU-PER,Кудымкар,,5981006306,1155958122242,развитие НКО;\"кавычки\",2015,https://p.ru,59.0131,54.6556",
            ",Площадка,internship_site,RU-SA,Якутск,,,,,,,62.0311,129.7229",
            ",ТОС без региона,tos,,,,,,,,,55.75,37.62",
        ])
        #expect(first.added == 3 && first.problems.isEmpty, "\(first.problems)")
        let second = try t.importCSV([",ТОС без региона,tos,RU-MOW,,Новый адрес,,,,,,55.75,37.62"])
        #expect(second.updated == 1, "\(second)")
        let ids = try await t.database.writer.read { db in try Int64.fetchAll(db, sql: "SELECT id FROM organizations") }
        #expect(ids.count == 3)
        for id in ids {
            #expect(try FeatureCacheTests.stored(t, id) == (try await FeatureCacheTests.fresh(t, id)), "feature \(id)")
        }
    }
}
