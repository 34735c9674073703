import CivicMapCore
import Foundation
import GRDB
import Testing

@testable import CivicMapStore

@Suite("Features stored in space order")
struct FeatureKeyTests {
    @Test func theCurveVisitsEveryCellOnceAndStepsToANeighbour() {
        let side = 16
        var cells = [(x: Int, y: Int)?](repeating: nil, count: side * side)
        for x in 0..<side { for y in 0..<side { cells[FeatureKey.hilbert(x: x, y: y, side: side)] = (x, y) } }
        let visited = cells.compactMap { $0 }
        #expect(visited.count == side * side)
        for (a, b) in zip(visited, visited.dropFirst()) { #expect(abs(a.x - b.x) + abs(a.y - b.y) == 1, "\(a) → \(b)") }
    }

    @Test func keysAreUniqueAndKeepNeighboursTogether() {
        let moscow = FeatureKey.of(id: 7, longitude: 37.62, latitude: 55.75)
        #expect(FeatureKey.of(id: 8, longitude: 37.62, latitude: 55.75) == moscow + 1)
        #expect(moscow & ((1 << FeatureKey.idBits) - 1) == 7)
        // A neighbouring street is nearer along the curve than Yakutsk.
        let street = FeatureKey.of(id: 9, longitude: 37.63, latitude: 55.751)
        let yakutsk = FeatureKey.of(id: 10, longitude: 129.73, latitude: 62.03)
        #expect(abs(street - moscow) < abs(yakutsk - moscow))
        // Ids too large to share a key with a position still get keys of their own.
        let huge: Int64 = (1 << 40) + 7
        #expect(FeatureKey.of(id: huge, longitude: 37.62, latitude: 55.75) == -huge)
        #expect(FeatureKey.of(id: huge, longitude: 37.62, latitude: 55.75) != FeatureKey.of(id: 7, longitude: 37.62, latitude: 55.75))
        #expect(FeatureKey.of(id: 1, longitude: 180, latitude: 90) > 0 && FeatureKey.of(id: 1, longitude: -180, latitude: -90) > 0)
    }

    /// Every write path (row by row, bulk, refresh) stores a Feature under the key readers compute.
    @Test func everyFeatureIsStoredUnderTheKeyOfItsPoint() async throws {
        let t = try TestDatabase(demo: true)
        try await t.database.writer.write { db in
            try db.execute(sql: "UPDATE organizations SET lat = 43.1, lon = 131.9 WHERE id = 3")
            try FeatureCache.refresh(db)
        }
        let bulk = try TestDatabase()
        _ = try bulk.database.importFiles([BulkLoadTests.demo], options: ImportOptions(bulkThreshold: 1), currentYear: 2026)
        for d in [t, bulk] {
            let rows = try await d.database.writer.read { db in
                try Row.fetchAll(db, sql: "SELECT o.id, o.lon, o.lat, f.key FROM organizations o LEFT JOIN features f ON f.id = o.id")
            }
            #expect(rows.count > 20)
            for row in rows { #expect(row[3] as Int64? == FeatureKey.of(id: row[0], longitude: row[1], latitude: row[2]), "\(row)") }
        }
    }

    /// Without a sortby an export lists Features in storage order, whether the point index or
    /// SQL (a category filter) chooses them; with one, in its order.
    @Test func exportsWithoutSortbyFollowTheStorageOrder() async throws {
        let t = try TestDatabase(demo: true)
        let parser = try FeatureQueryParser(kinds: [.ngo, .tos, .internshipSite], regions: t.database.regionDirectory())
        func exported(_ parameters: [(String, String)]) async throws -> [Int64] {
            let q = try parser.parse(parameters.map { (name: $0.0, value: $0.1) }, collectionKinds: [.ngo, .tos, .internshipSite])
            var ids: [Int64] = []
            for try await chunk in try await t.database.featureChunks(matching: q, chunkSize: 5) { ids += chunk.map(\.id) }
            return ids
        }
        let byKey = try await t.database.writer.read { db in try Int64.fetchAll(db, sql: "SELECT id FROM features ORDER BY key") }
        let all = try await exported([])
        #expect(all == byKey)
        #expect(all != all.sorted())  // the demo's ids are not in space order, so this tells the orders apart
        let category = try await t.database.writer.read { db in try String.fetchOne(db, sql: "SELECT category FROM organization_categories GROUP BY category ORDER BY count(*) DESC") }
        let inCategory = try await exported([("categories", try #require(category))])
        #expect(!inCategory.isEmpty && inCategory == byKey.filter(Set(inCategory).contains))
        #expect(try await exported([("sortby", "id")]) == byKey.sorted())
        // limit and offset cut every order, as they cut a page.
        #expect(try await exported([("limit", "5"), ("offset", "3")]) == Array(byKey.dropFirst(3).prefix(5)))
        #expect(try await exported([("categories", category!), ("limit", "2"), ("offset", "1")]) == Array(inCategory.dropFirst(1).prefix(2)))
        #expect(try await exported([("sortby", "id"), ("limit", "4"), ("offset", "2")]) == Array(byKey.sorted().dropFirst(2).prefix(4)))
    }

    /// A database from before v7 (Features in organizations.feature_json) keeps its Features.
    @Test func theMigrationMovesStoredFeaturesAndQueuesStaleOnes() async throws {
        let demo = try TestDatabase(demo: true)
        let path = demo.directory.appendingPathComponent("v6.sqlite").path
        let old = try DatabasePool(path: path, configuration: CivicMapDatabase.configuration)
        try Migrations.migrator.migrate(old, upTo: "v6-tokens-and-audit")
        let demoPath = demo.directory.appendingPathComponent("test.sqlite").path
        try await old.writeWithoutTransaction { db in
            try db.execute(sql: "ATTACH DATABASE ? AS d", arguments: [demoPath])
            try db.inTransaction {
                try db.execute(sql: """
                    INSERT OR REPLACE INTO regions SELECT * FROM d.regions;
                    INSERT INTO organizations SELECT o.*, f.json FROM d.organizations o JOIN d.features f ON f.id = o.id;
                    INSERT INTO programmes SELECT * FROM d.programmes;
                    UPDATE organizations SET feature_json = NULL WHERE id = 2;
                    """)
                return .commit
            }
            try db.execute(sql: "DETACH DATABASE d")
        }
        try old.close()
        let migrated = try CivicMapDatabase(path: path)
        let expected = try await demo.database.writer.read { db in try Row.fetchAll(db, sql: "SELECT key, id, kind, json FROM features ORDER BY key") }
        let got = try await migrated.writer.read { db in try Row.fetchAll(db, sql: "SELECT key, id, kind, json FROM features ORDER BY key") }
        #expect(got == expected)  // id 2 re-encoded on opening, the rest moved
        let columns = try await migrated.writer.read { db in try db.columns(in: "organizations").map(\.name) }
        #expect(!columns.contains("feature_json"))
        #expect(try await migrated.writer.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM stale_features") } == 0)
    }
}
