import CivicMapCore
import Foundation
import GRDB
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
                "SELECT id, kind, name, region_code, ogrn, categories, lat, lon, distance_to_centre_m, AsText(geom) FROM organizations ORDER BY id",
                "SELECT organization_id, position, title FROM programmes ORDER BY 1, 2",
                "SELECT key, id, kind, length(json) FROM features ORDER BY key",
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
        #expect(got.count == expected.count)
        #expect(got == expected)
        #expect(try bulk.count("SELECT count(*) FROM idx_organizations_geom") == 23)
        #expect(try bulk.count("SELECT count(*) FROM organization_categories") > 0)
    }

    @Test func bulkPathRunsOnlyWhenNewRowsOutnumberTheStoredOnes() throws {
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
}
