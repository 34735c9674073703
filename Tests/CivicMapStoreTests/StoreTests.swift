import CivicMapCore
import Foundation
import GRDB
import Testing

@testable import CivicMapStore

@Suite("SpatiaLite store")
struct StoreTests {
    static let perm = Coordinate(trustedLatitude: 58.0105, longitude: 56.2502)

    @Test func schemaIsSpatial() throws {
        let t = try TestDatabase()
        #expect(try t.count("SELECT count(*) FROM regions") == 89)
        #expect(try t.count("SELECT count(*) FROM regions WHERE boundary IS NOT NULL") == 83)
        #expect(try t.count("SELECT srid FROM geometry_columns WHERE f_table_name = 'organizations'") == 4326)
        #expect(try t.count("SELECT spatial_index_enabled FROM geometry_columns WHERE f_table_name = 'organizations'") == 1)
        #expect(try t.count("SELECT ST_Contains(boundary, MakePoint(54.6532, 59.0152, 4326)) FROM regions WHERE iso = 'RU-PER'") == 1)
    }

    @Test func demoDataCarriesGeodesicRemoteness() async throws {
        let t = try TestDatabase(demo: true)
        let page = try await t.query([("region_iso", "RU-PER"), ("min_distance_km", "50")])
        #expect(page.numberMatched == 1)
        let sreda = try #require(page.organisations.first)
        #expect(sreda.name.contains("Проектная среда"))
        #expect(sreda.settlement == "Кудымкар")
        let expected = Geodesic.wgs84.distance(from: sreda.location, to: Self.perm)
        #expect(abs(try #require(sreda.distanceToCentreMetres) - expected) < 0.001)
        // SpatiaLite's own ellipsoidal distance is an independent implementation of the same quantity.
        let spatialite = try await t.database.writer.read { db in
            try Double.fetchOne(db, sql: """
                SELECT ST_Distance(o.geom, r.centre, 1) FROM organizations o JOIN regions r ON r.code = o.region_code WHERE o.id = ?
                """, arguments: [sreda.id])
        }
        #expect(abs(try #require(spatialite) - expected) < 0.001)
        #expect(abs(expected - 145_552.7) < 1)
    }

    @Test func internshipSitesHaveTheirProgrammes() async throws {
        let t = try TestDatabase(demo: true)
        let page = try await t.query([("q", "ЕРЦ")], kinds: [.internshipSite])
        let erc = try #require(page.organisations.first)
        #expect(erc.programmes.count == 1)
        #expect(erc.programmes[0].capacity == 18)
        #expect(erc.programmes[0].startsOn == "2023-08-02")
        #expect(erc.programmes[0].selectionStatus == .completed)
    }

    @Test func movingARegionCentreRecomputesDistances() async throws {
        let t = try TestDatabase(demo: true)
        var regions = try t.database.regionDirectory().regions
        let i = try #require(regions.firstIndex { $0.iso == "RU-PER" })
        let kudymkar = Coordinate(trustedLatitude: 59.0152, longitude: 54.6532)
        regions[i].centre = kudymkar  // a hypothetical move of the capital to Kudymkar
        regions[i].centreNameRU = "Кудымкар"
        let stored = try t.count("SELECT count(*) FROM organizations WHERE region_code = '59'")
        let changes = try t.database.loadRegions(regions, by: "cli:test")
        #expect(changes.map(\.code) == ["59"])
        #expect(changes.first?.recomputedDistances == stored && stored > 0)
        #expect(changes.first?.description.contains("centre Пермь (58.0105, 56.2502) → Кудымкар (59.0152, 54.6532)") == true)
        let logged = try await t.database.auditLog(AuditQuery(action: .regions))
        #expect(logged.entries.map(\.actor) == ["cli:test"])
        let summary = String(decoding: try #require(logged.entries.first?.after), as: UTF8.self)
        #expect(summary.contains(#""code":"59""#) && summary.contains("Кудымкар") && summary.contains("Пермь"))
        // The same regions again change nothing, and log nothing.
        #expect(try t.database.loadRegions(regions, by: "cli:test").isEmpty)
        #expect(try await t.database.auditLog(AuditQuery(action: .regions)).numberMatched == 1)
        let page = try await t.query([("region_iso", "RU-PER"), ("sortby", "distance_to_center_km")])
        let sreda = try #require(page.organisations.first { $0.settlement == "Кудымкар" })
        #expect(sreda.distanceToCentreMetres == 0)
        let permSites = try #require(page.organisations.first { $0.settlement == "Пермь" })
        #expect(abs(permSites.distanceToCentreMetres! - Geodesic.wgs84.distance(from: Self.perm, to: kudymkar)) < 0.001)
    }

    @Test func movingAnOrganisationRecomputesItsDistance() async throws {
        let t = try TestDatabase()
        _ = try t.importCSV(["1,АНО Тест,ngo,RU-PER,Пермь,,,,,,,58.0105,56.2502"])
        #expect(try await t.query([]).organisations[0].distanceToCentreMetres == 0)
        let summary = try t.importCSV(["1,АНО Тест,ngo,RU-PER,Кудымкар,,,,,,,59.0152,54.6532"])
        #expect(summary.updated == 1)
        let moved = try await t.query([]).organisations[0]
        #expect(abs(moved.distanceToCentreMetres! - 145_552.7) < 1)
        #expect(try t.count("SELECT count(*) FROM organizations WHERE ST_Equals(geom, MakePoint(54.6532, 59.0152, 4326))") == 1)
    }

    @Test func searchFindsWordsWhateverTheQuotesSpacingAndOrder() async throws {
        let t = try TestDatabase()
        _ = try t.importCSV([
            "1,АНО «Азбука добра»,ngo,RU-PER,Пермь,,,,,,,58.0105,56.2502",
            "2,Фонд «Добрые руки»,ngo,RU-PER,Пермь,,,,,,,58.0105,56.2502",
        ])
        for asked in ["АНО «Азбука добра»", "\"Азбука добра\"", "„Азбука добра“", "азбука  добра", "добра азбука", "Азбука, Пермь"] {
            #expect(try await t.query([("q", asked)]).organisations.map(\.id) == [1], "\(asked)")
        }
        #expect(try await t.query([("q", "добр")]).numberMatched == 2)
        #expect(try await t.query([("q", "азбука руки")]).numberMatched == 0)  // every word must match
        await #expect(throws: CivicMapError.self) { try await t.query([("q", "«»")]) }
    }

    @Test func categoriesAreOneWhateverTheirCaseAndЁ() async throws {
        let t = try TestDatabase()
        _ = try t.importCSV([
            "1,АНО Один,ngo,RU-PER,,,,,Волонтёрство,,,58.0105,56.2502",
            "2,АНО Два,ngo,RU-PER,,,,,волонтерство; ВОЛОНТЁРСТВО; экология,,,58.0105,56.2502",
            "3,АНО Три,ngo,RU-PER,,,,,волонтерство,,,58.0105,56.2502",
            "4,АНО Четыре,ngo,RU-PER,,,,,экология,,,58.0105,56.2502",
        ])
        // One spelling per organisation: the first of those a row gives.
        #expect(try await t.database.organisation(id: 2)?.categories == ["волонтерство", "экология"])
        for asked in ["ВОЛОНТЕРСТВО", "Волонтёрство", "волонтерство"] {
            #expect(try await t.query([("categories", asked)]).numberMatched == 3, "\(asked)")
        }
        #expect(try await t.query([("categories", "волонтерство,экология")]).numberMatched == 4)
        var listed = try await t.database.categories()
        #expect(listed.map(\.name) == ["волонтерство", "экология"] && listed.map(\.count) == [3, 2], "\(listed)")
        // A row stored before spellings were folded may hold two: it counts once.
        try await t.database.writer.write { db in
            try db.execute(sql: "INSERT INTO organization_categories (category, organization_id) VALUES ('Волонтёрство', 3)")
        }
        listed = try await t.database.categories()
        #expect(listed.first?.count == 3, "\(listed)")
        // A category no row holds matches nothing (not everything).
        #expect(try await t.query([("categories", "спорт")]).numberMatched == 0)
        // Spellings follow writes: a new one is found under the folded name at once.
        _ = try t.importCSV(["5,АНО Пять,ngo,RU-PER,,,,,Спорт,,,58.0105,56.2502"])
        #expect(try await t.query([("categories", "СПОРТ")]).numberMatched == 1)
    }
}

@Suite("Import")
struct ImportTests {
    static let good = [
        "1,АНО «Среда»,ngo,RU-PER,Кудымкар,,5981006306,1155958122242,экология;дети и молодежь,2015,,59.0152,54.6532",
        "2,ТОС «Заря»,tos,RU-SA,Якутск,,,,ТОС и местные сообщества,,,62.0311,129.7229",
    ]

    @Test func reimportingChangesNothing() throws {
        let t = try TestDatabase()
        let first = try t.importCSV(Self.good)
        #expect(first.added == 2 && first.updated == 0 && first.unchanged == 0)
        let stamp = try t.database.writer.read { db in try String.fetchOne(db, sql: "SELECT updated_at FROM organizations WHERE id = 1") }
        let again = try t.importCSV(Self.good)
        #expect(again.added == 0 && again.updated == 0 && again.unchanged == 2)
        #expect(try t.database.writer.read { db in try String.fetchOne(db, sql: "SELECT updated_at FROM organizations WHERE id = 1") } == stamp)
    }

    /// A column the file lacks leaves the stored value alone; an empty cell clears it. Row by
    /// row and in bulk alike, and the stored Feature follows the merged row.
    @Test(arguments: [Int.max, 1]) func columnsAFileLacksKeepTheirStoredValues(bulkThreshold: Int) async throws {
        let t = try TestDatabase(demo: true)
        let bulk = bulkThreshold == 1
        // Alone in the table, one changed row is enough for the bulk path.
        if bulk { try await t.database.writer.write { db in try db.execute(sql: "DELETE FROM organizations WHERE id <> 20") } }
        let columns = "id, name, kind, region_code, settlement, address, inn, ogrn, categories, founded_year, website, email, phone, description, source, lat, lon"
        func row(_ id: Int) throws -> String {
            try t.database.writer.read { db in try Row.fetchOne(db, sql: "SELECT \(columns) FROM organizations WHERE id = ?", arguments: [id])!.description }
        }
        let before = try row(20)
        func importing(_ text: String) throws -> ImportSummary {
            try t.database.importFiles([try t.file("part-\(UUID().uuidString).csv", text)], options: ImportOptions(bulkThreshold: bulkThreshold), currentYear: 2026)
        }
        // Name, kind and position only: nothing changes.
        let name = "АНО по развитию социальных технологий и поддержке общественных инициатив «Проектная среда»"
        let same = try importing("id,name,kind,lat,lon\n20,\"\(name)\",ngo,59.0152,54.6532\n")
        #expect(same.unchanged == 1 && same.updated == 0, "\(same)")
        #expect(try row(20) == before)
        // A new address; an empty website cell clears nothing stored; ИНН, ОГРН and categories stay.
        let moved = try importing("id,name,kind,lat,lon,address,website\n20,\"\(name)\",ngo,59.0152,54.6532,\"Кудымкар, ул. Ленина, 1\",\n")
        #expect(moved.updated == 1, "\(moved)")
        #expect(moved.seconds.contains { $0.phase == "triggers" } == bulk)
        #expect(try t.count("""
            SELECT count(*) FROM organizations WHERE id = 20 AND address = 'Кудымкар, ул. Ленина, 1' AND inn = '5981006306'
              AND ogrn = '1155958122242' AND categories = '["поддержка НКО"]' AND settlement = 'Кудымкар' AND website IS NULL
              AND description IS NOT NULL AND search_text LIKE '%ленина%' AND search_text LIKE '%кудымкар%'
            """) == 1)
        // An empty cell of a stated column clears the field.
        let cleared = try importing("id,name,kind,lat,lon,inn,categories\n20,\"\(name)\",ngo,59.0152,54.6532,,\n")
        #expect(cleared.updated == 1, "\(cleared)")
        #expect(try t.count("SELECT count(*) FROM organizations WHERE id = 20 AND inn IS NULL AND categories = '[]' AND ogrn IS NOT NULL") == 1)
        #expect(try t.count("SELECT count(*) FROM organization_categories WHERE organization_id = 20") == 0)
        // Without a settlement column, a row without id or ОГРН still finds its namesake.
        let byName = try importing("name,kind,region_iso,lat,lon,description\n\"\(name)\",ngo,RU-PER,59.0152,54.6532,Новое описание\n")
        #expect(byName.updated == 1 && byName.added == 0, "\(byName)")
        #expect(try t.count("SELECT count(*) FROM organizations WHERE id = 20 AND description = 'Новое описание' AND ogrn = '1155958122242'") == 1)
        #expect(try t.count("SELECT count(*) FROM stale_features") == 0)
        #expect(try FeatureCacheTests.stored(t, 20) == (try await FeatureCacheTests.fresh(t, 20)))
    }

    /// In GeoJSON a property a feature leaves out is kept, and a `null` one cleared.
    @Test func propertiesAFeatureLeavesOutKeepTheirStoredValues() throws {
        let t = try TestDatabase(demo: true)
        let feature = #"{"type":"Feature","id":20,"geometry":{"type":"Point","coordinates":[54.6532,59.0152]},"properties":{"name":"Проектная среда","kind":"ngo","website":null}}"#
        let summary = try t.database.importFiles([try t.file("one.geojson", #"{"type":"FeatureCollection","features":["# + feature + "]}")], currentYear: 2026)
        #expect(summary.updated == 1, "\(summary)")
        #expect(try t.count("SELECT count(*) FROM organizations WHERE id = 20 AND name = 'Проектная среда' AND inn = '5981006306' AND description IS NOT NULL AND website IS NULL") == 1)
    }

    /// An organisation in Chukotka west of 180° makes the extent cross the antimeridian, from
    /// the point index and from SQL alike, instead of spanning the world.
    @Test func theExtentGoesTheShortWayRoundTheAntimeridian() async throws {
        let t = try TestDatabase(demo: true)
        let before = try #require(try await t.database.extent(of: [.ngo, .tos, .internshipSite]))
        #expect(!before.crossesAntimeridian)
        _ = try t.importCSV([",АНО «Уэлен»,ngo,RU-CHU,Уэлен,,,,,,,66.16,-169.81"])
        let after = try #require(try await t.database.extent(of: [.ngo, .tos, .internshipSite]))
        #expect(after == BoundingBox(west: before.west, south: before.south, east: -169.81, north: max(before.north, 66.16)))
        let rows = try await t.database.writer.read { db in
            try Row.fetchAll(db, sql: OrganisationSQL.extentSpans, arguments: [OrganisationSQL.jsonArray(["ngo", "tos", "internship_site"])])
        }
        let grouped = BoundingBox.enclosing(rows.map { (west: $0[0], east: $0[1]) }, south: rows.map { $0[2] as Double }.min()!, north: rows.map { $0[3] as Double }.max()!)
        #expect(grouped == after)
        #expect(try await t.database.extent(of: [.tos]) != after)  // kinds filter
    }

    /// Updates that are right only if the file meant that organisation are written with a
    /// warning naming it: a long move, a site's programmes lost. An id that names an organisation
    /// with another name in another region is someone else's: that row is refused.
    @Test func surprisingUpdatesAreWrittenWithAWarning() throws {
        let t = try TestDatabase(demo: true)
        let summary = try t.importCSV([
            // 20 is «Проектная среда» in Kudymkar: moved to Perm, 150 km.
            "20,АНО по развитию социальных технологий и поддержке общественных инициатив «Проектная среда»,ngo,RU-PER,Кудымкар,,5981006306,1155958122242,поддержка НКО,,,58.0105,56.2502",
            // 3, a Yakutian fund, given a Perm organisation's name and region.
            "3,Пермский фонд,ngo,RU-PER,Пермь,,,,,,,58.0105,56.2502",
            // 21 is an internship site with a programme.
            "21,\(try t.database.writer.read { db in try String.fetchOne(db, sql: "SELECT name FROM organizations WHERE id = 21")! }),ngo,RU-BA,Уфа,,,,,,,54.7388,55.9721",
        ], options: ImportOptions(partial: true))
        #expect(summary.updated == 2 && summary.rejected == 1, "\(summary)")
        let reasons = summary.warnings.map { "\($0.line) \($0.field): \($0.reason)" }
        #expect(reasons.contains { $0.hasPrefix("2 lat:") && $0.contains("by 1") && $0.contains("km") }, "\(reasons)")
        #expect(reasons.contains { $0.hasPrefix("4 kind:") && $0.contains("programme") }, "\(reasons)")
        #expect(summary.problems.map { "\($0.line) \($0.field)" } == ["3 id"], "\(summary.problems)")
        #expect(summary.problems.first?.reason.contains("3 is organisation «") == true && summary.problems.first?.reason.contains("in RU-SA, not «Пермский фонд»") == true)
        #expect(try t.count("SELECT count(*) FROM organizations WHERE id = 3 AND region_code = '14'") == 1)
    }

    /// A rename in place is written, with a warning: a shifted id column renames organisation
    /// after organisation, each within its region.
    @Test func aRenameByIDIsWrittenWithAWarning() throws {
        let t = try TestDatabase()
        _ = try t.importCSV(Self.good)
        let summary = try t.importCSV([
            "1,Фонд «Среда»,ngo,RU-PER,Кудымкар,,5981006306,1155958122242,экология;дети и молодежь,2015,,59.0152,54.6532",
            "2,ТОС «Заря»,tos,RU-SA,Якутск,,,,ТОС и местные сообщества,,,62.0311,129.7229",
        ])
        #expect(summary.updated == 1 && summary.unchanged == 1)
        #expect(summary.warnings.map { "\($0.line) \($0.field): \($0.reason)" } == [
            "2 name: renames organisation 1 «АНО «Среда»» to «Фонд «Среда»»; is the id this organisation's?",
        ])
        #expect(try t.count("SELECT count(*) FROM organizations WHERE name = 'Фонд «Среда»'") == 1)
    }

    /// An import for a token scoped to one region (the API's `POST /import`): rows of other
    /// regions, rows whose point lies elsewhere, and rows that resolve to an organisation stored
    /// in another region are refused; the rest of the region's rows are written.
    @Test func aScopedImportChangesItsRegionOnly() throws {
        let t = try TestDatabase(demo: true)
        let header = "id,name,kind,region_iso,settlement,address,inn,ogrn,categories,founded_year,website,lat,lon"
        let rows = [
            ",АНО «Пермская»,ngo,RU-PER,Пермь,,,,,,,58.0105,56.2502",                   // 2: written
            ",АНО «Якутская»,ngo,RU-SA,Якутск,,,,,,,62.0311,129.7229",                  // 3: another region
            ",АНО «Якобы пермская»,ngo,RU-PER,Пермь,,,,,,,62.0311,129.7229",            // 4: the point lies in Yakutia
            "3,Фонд будущих поколений (Пермь),ngo,RU-PER,Пермь,,,,,,,58.0105,56.2502",  // 5: id 3 is stored in Yakutia
        ]
        let input = ImportInput(name: "upload.csv", bytes: Array(([header] + rows).joined(separator: "\n").utf8))
        let summary = try t.database.importInputs([input], options: ImportOptions(partial: true, onlyRegion: "59", mayLeaveWAL: false),
                                                   currentYear: 2026, actor: "perm")
        #expect(summary.added == 1 && summary.rejected == 3, "\(summary.problems)")
        #expect(summary.problems.map { "\($0.line) \($0.field)" } == ["3 region_iso", "4 region_iso", "5 id"], "\(summary.problems)")
        #expect(summary.problems[0].reason.contains("is RU-SA; this token may import organisations of RU-PER only"))
        #expect(summary.problems[2].reason.contains("organisation 3 «Фонд будущих поколений") && summary.problems[2].reason.contains("is in RU-SA"))
        #expect(try t.count("SELECT count(*) FROM organizations WHERE region_code = '14' AND id = 3") == 1)
        #expect(try t.count("SELECT count(*) FROM organizations WHERE name = 'АНО «Пермская»'") == 1)
        // Unscoped, the same file's rows of both regions go in; the third, whose point lies in
        // Yakutia, is refused for every writer.
        let all = try t.database.importInputs([ImportInput(name: "upload.csv", bytes: Array(([header] + rows.prefix(3)).joined(separator: "\n").utf8))],
                                              options: ImportOptions(partial: true), currentYear: 2026, actor: "admin")
        #expect(all.added == 1 && all.unchanged == 1 && all.rejected == 1, "\(all.problems)")
        #expect(all.problems.map { "\($0.line) \($0.field)" } == ["4 region_iso"] && all.problems[0].reason.contains("km outside it"), "\(all.problems)")
    }

    /// The region's name, as exports write it beside the code: alone it states the region;
    /// beside a code that says otherwise, the row is refused.
    @Test func theRegionNameColumnIsReadAndCheckedAgainstTheCode() throws {
        let t = try TestDatabase()
        let header = "name,kind,region_iso,region_name,lat,lon"
        let file = try t.file("regions.csv", [header, "АНО «Один»,ngo,,Пермский край,58.0105,56.2502",
                                              "АНО «Два»,ngo,RU-PER,Республика Саха (Якутия),58.0105,56.2502"].joined(separator: "\n") + "\n")
        let summary = try t.database.importFiles([file], options: ImportOptions(partial: true), currentYear: 2026)
        #expect(summary.added == 1 && summary.problems.map(\.field) == ["region_name"], "\(summary.problems)")
        #expect(try t.count("SELECT count(*) FROM organizations WHERE name = 'АНО «Один»' AND region_code = '59'") == 1)
    }

    @Test func oneBadRowLeavesTheDatabaseUntouched() throws {
        let t = try TestDatabase()
        _ = try t.importCSV(Self.good)
        let before = try t.count("SELECT total_changes()")
        let summary = try t.importCSV([
            "1,АНО «Среда» (new name),ngo,RU-PER,Кудымкар,,,,,,,59.0152,54.6532",
            "3,Bad,ngo,RU-PER,,,5981006307,,,,,59.0,54.6",
        ])
        #expect(summary.rolledBack)
        #expect(summary.problems == [FieldProblem(line: 3, field: "inn", reason: "ИНН check digit does not match")])
        #expect(try t.count("SELECT count(*) FROM organizations WHERE name = 'АНО «Среда»'") == 1)
        #expect(try t.count("SELECT count(*) FROM organizations") == 2)
        _ = before
    }

    @Test func partialImportKeepsTheGoodRows() throws {
        let t = try TestDatabase()
        let summary = try t.importCSV(Self.good + ["3,,ngo,RU-PER,,,,,,,,59.0,54.6"], options: ImportOptions(partial: true))
        #expect(summary.added == 2 && summary.rejected == 1 && !summary.rolledBack)
        #expect(summary.problems.first?.field == "name")
    }

    @Test func dryRunWritesNothing() throws {
        let t = try TestDatabase()
        let summary = try t.importCSV(Self.good, options: ImportOptions(dryRun: true))
        #expect(summary.added == 2 && summary.rolledBack)
        #expect(try t.count("SELECT count(*) FROM organizations") == 0)
        #expect(try t.count("SELECT count(*) FROM import_changes") == 0)
    }

    /// A row refused only when written (an ОГРН of another organisation) does not hide what the
    /// others would do: a dry run counts them as a partial import would write them.
    @Test func aDryRunCountsTheOtherRowsPastAWriteStageRefusal() throws {
        let t = try TestDatabase()
        _ = try t.importCSV(["1,АНО Один,ngo,RU-PER,,,,1155958122242,,,,58.0105,56.2502"])
        let dry = try t.importCSV(["2,АНО Новая,ngo,RU-PER,,,,,,,,58.0105,56.2502", "3,АНО Три,ngo,RU-PER,,,,1155958122242,,,,58.0105,56.2502"],
                                  options: ImportOptions(dryRun: true))
        #expect(dry.added == 1 && dry.rejected == 1 && dry.rolledBack, "\(dry.problems)")
        #expect(dry.problems.map(\.field) == ["ogrn"])
        #expect(try t.count("SELECT count(*) FROM organizations") == 1)
        // Written partially, the import records the row it wrote, not the refused one.
        let partial = try t.importCSV(["2,АНО Новая,ngo,RU-PER,,,,,,,,58.0105,56.2502", "3,АНО Три,ngo,RU-PER,,,,1155958122242,,,,58.0105,56.2502"],
                                      options: ImportOptions(partial: true))
        #expect(partial.added == 1 && partial.auditEntry != nil)
        #expect(try t.count("SELECT count(*) FROM import_changes WHERE entry_id = \(partial.auditEntry ?? 0)") == 1)
        #expect(try t.count("SELECT organization_id FROM import_changes WHERE entry_id = \(partial.auditEntry ?? 0)") == 2)
    }

    @Test func rowsWithoutIdMatchByOGRNThenByName() throws {
        let t = try TestDatabase()
        _ = try t.importCSV(Self.good)
        let summary = try t.importCSV([
            ",АНО «Среда» переименована,ngo,RU-PER,Кудымкар,,5981006306,1155958122242,экология,2015,,59.0152,54.6532",
            ",ТОС «Заря»,tos,RU-SA,Якутск,,,,ТОС и местные сообщества,,,62.0311,129.7229",
            ",ТОС «Новый»,tos,RU-SA,Якутск,,,,,,,62.0311,129.7229",
        ])
        #expect(summary.updated == 1 && summary.unchanged == 1 && summary.added == 1)
        #expect(try t.count("SELECT max(id) FROM organizations") == 3)
    }

    @Test func duplicatesAndOGRNConflictsAreReported() throws {
        let t = try TestDatabase()
        _ = try t.importCSV(Self.good)
        let dup = try t.importCSV([Self.good[1], Self.good[1]])
        #expect(dup.problems.contains { $0.line == 3 && $0.field == "id" && $0.reason.contains("line 2") })
        let conflict = try t.importCSV(["5,Другая АНО,ngo,RU-PER,,,,1155958122242,,,,59.0152,54.6532"])
        #expect(conflict.rolledBack)
        #expect(conflict.problems.first?.reason.contains("already belongs to organisation 1") == true)
    }

    @Test func missingColumnsAndRaggedRows() throws {
        let t = try TestDatabase()
        let path = try t.file("bad.csv", "name,kind,lat\nА,ngo,55\n")
        // The whole file is refused, in a partial import and a dry run too: no row is readable.
        for options in [ImportOptions(), ImportOptions(partial: true), ImportOptions(dryRun: true)] {
            do {
                _ = try t.database.importFiles([path], options: options, currentYear: 2026)
                Issue.record("a file without a lon column was imported")
            } catch let CivicMapError.invalidRecords(problems) {
                #expect(problems.map { "\($0.line) \($0.field) \($0.reason)" } == ["1 lon column missing from the header"])
            }
        }
        #expect(try t.count("SELECT count(*) FROM audit_log") == 0)
        let ragged = try t.importCSV(["1,АНО,ngo,RU-PER,,,,,,,,59.0"])
        #expect(ragged.problems.first?.reason.contains("13") == true)
    }

    @Test func geoJSONWithProgrammesReplacesThemOnChange() throws {
        let t = try TestDatabase()
        func site(_ capacity: Int) throws -> ImportSummary {
            let doc = """
                {"type":"FeatureCollection","features":[{"type":"Feature","id":7,"geometry":{"type":"Point","coordinates":[56.25,58.01]},
                "properties":{"name":"Площадка","kind":"internship_site","categories":["культура"],
                "programmes":[{"title":"Стажировка","topics":["фандрайзинг"],"length_days":2,"capacity":\(capacity),"selection_status":"open"}]}}]}
                """
            return try t.database.importFiles([try t.file("site-\(capacity).geojson", doc)], currentYear: 2026)
        }
        #expect(try site(10).added == 1)
        #expect(try site(10).unchanged == 1)
        #expect(try site(12).updated == 1)
        #expect(try t.count("SELECT capacity FROM programmes") == 12)
        #expect(try t.count("SELECT count(*) FROM programmes") == 1)
    }

    @Test func exportImportsBackUnchanged() async throws {
        let t = try TestDatabase(demo: true)
        let all = try t.database.kindInfos().map(\.kind)
        let q = try FeatureQueryParser(kinds: all, regions: t.database.regionDirectory()).parse([], collectionKinds: all, paged: false)
        var csv = CSVExport().head(count: 0)
        for try await chunk in try await t.database.chunks(matching: q, chunkSize: 5) { csv += CSVExport().encode(chunk, first: false) }
        let path = try t.file("export.csv", String(decoding: csv, as: UTF8.self))
        let summary = try t.database.importFiles([path], currentYear: 2026)
        #expect(summary.problems.isEmpty, "\(summary.problems)")
        #expect(summary.unchanged == 23 && summary.added == 0 && summary.updated == 0)
    }
}

@Suite("MBTiles basemaps")
struct MBTilesTests {
    @Test func servesTilesInXYZNumbering() async throws {
        let t = try TestDatabase()
        let folder = t.directory.appendingPathComponent("tiles")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let queue = try DatabaseQueue(path: folder.appendingPathComponent("region-59.mbtiles").path)
        try await queue.write { db in
            try db.execute(sql: """
                CREATE TABLE metadata (name TEXT, value TEXT);
                CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER, tile_data BLOB);
                INSERT INTO metadata VALUES ('format', 'png'), ('minzoom', '0'), ('maxzoom', '2'),
                    ('bounds', '54,57,58,61'), ('attribution', '© OpenStreetMap');
                """)
            // TMS row 1 at zoom 1 is the northern row, which XYZ numbers 0.
            try db.execute(sql: "INSERT INTO tiles VALUES (1, 1, 1, ?)", arguments: [Data([0x89, 0x50, 0x4E, 0x47])])
        }
        try queue.close()
        let store = try MBTilesStore(directory: folder.path)
        #expect(store.tilesets().map(\.name) == ["region-59"])
        #expect(store.tilesets().first?.bounds == BoundingBox(west: 54, south: 57, east: 58, north: 61))
        #expect(try await store.tile(tileset: "region-59", z: 1, x: 1, y: 0) == [0x89, 0x50, 0x4E, 0x47])
        #expect(try await store.tile(tileset: "region-59", z: 1, x: 1, y: 1) == nil)
        #expect(try await store.tile(tileset: "region-59", z: 1, x: 5, y: 0) == nil)
        #expect(try await store.tile(tileset: "other", z: 0, x: 0, y: 0) == nil)
        #expect(try MBTilesStore(directory: "/nonexistent").tilesets().isEmpty)
    }
}

@Suite("Import integrity (review findings)")
struct ImportIntegrityTests {
    @Test func aRowWithAnUnknownOGRNDoesNotTakeOverANamesake() throws {
        let t = try TestDatabase()
        _ = try t.importCSV([",АНО Тезка,ngo,RU-PER,Пермь,,,1155958122242,,,,58.0105,56.2502"])
        let summary = try t.importCSV([",АНО Тезка,ngo,RU-PER,Пермь,,,1027700132195,,,,58.0105,56.2502"])
        #expect(summary.added == 1 && summary.updated == 0)
        #expect(try t.count("SELECT count(*) FROM organizations") == 2)
    }

    /// A consultant's file adds the ОГРН the register lacked: the same organisation, not a twin.
    @Test func aRowWithAnOGRNCompletesANamesakeStoredWithoutOne() throws {
        let t = try TestDatabase()
        _ = try t.importCSV([",АНО Тезка,ngo,RU-PER,Пермь,,,,,,,58.0105,56.2502"])
        let summary = try t.importCSV([",АНО Тезка,ngo,RU-PER,Пермь,,,1027700132195,,,,58.0105,56.2502"])
        #expect(summary.added == 0 && summary.updated == 1)
        #expect(try t.count("SELECT count(*) FROM organizations WHERE ogrn = '1027700132195'") == 1)
        #expect(try t.count("SELECT count(*) FROM organizations") == 1)
    }

    /// An empty cell clears a field, as documented; for an ИНН or ОГРН the import says so.
    @Test func emptyingAStoredIdentifierIsWarned() throws {
        let t = try TestDatabase()
        _ = try t.importCSV(["1,АНО Среда,ngo,RU-PER,Кудымкар,,5981006306,1155958122242,,,,59.0152,54.6532"])
        let summary = try t.importCSV(["1,АНО Среда,ngo,RU-PER,Кудымкар,,,1155958122242,,,,59.0152,54.6532"])
        #expect(summary.updated == 1)
        #expect(summary.warnings.map(\.field) == ["inn"], "\(summary.warnings)")
        #expect(summary.warnings.first?.reason.contains("5981006306") == true)
        #expect(try t.count("SELECT count(*) FROM organizations WHERE inn IS NULL") == 1)
    }

    /// `--dry-run --report` shows which stored values a file would overwrite or clear.
    @Test func aReportListsWhatEachUpdateChanges() throws {
        let t = try TestDatabase()
        let stored = "1,АНО Среда,ngo,RU-PER,Кудымкар,,5981006306,1155958122242,,,,59.0152,54.6532"
        _ = try t.importCSV([stored])
        let file = ["1,АНО Среда,ngo,RU-PER,Кудымкар,ул. Ленина 1,,1155958122242,,,,59.0152,54.6532"]
        let summary = try t.importCSV(file, options: ImportOptions(dryRun: true, listsChanges: true))
        #expect(summary.rolledBack && summary.updated == 1)
        let change = try #require(summary.changes.count == 1 ? summary.changes.first : nil, "\(summary.changes)")
        #expect(change.line == 2 && change.field == "address,inn")
        #expect(change.reason.contains("address empty → «ул. Ленина 1»") && change.reason.contains("inn «5981006306» → empty"), "\(change.reason)")
        // Unchanged rows list nothing; nor does an import that was not asked to.
        #expect(try t.importCSV([stored], options: ImportOptions(dryRun: true, listsChanges: true)).changes.isEmpty)
        #expect(try t.importCSV(file, options: ImportOptions(dryRun: true)).changes.isEmpty)
    }

    @Test func twoRowsResolvingToOneOrganisationAreRefused() throws {
        let t = try TestDatabase()
        _ = try t.importCSV(["7,АНО Семь,ngo,RU-PER,,,,1155958122242,,,,58.0105,56.2502"])
        let summary = try t.importCSV([
            "7,АНО Семь (новое имя),ngo,RU-PER,,,,,,,,58.0105,56.2502",
            ",АНО Семь по ОГРН,ngo,RU-PER,,,,1155958122242,,,,58.0105,56.2502",
        ])
        #expect(summary.rolledBack)
        #expect(summary.problems.contains { $0.line == 3 && $0.reason.contains("same organisation (7)") })
        #expect(try t.count("SELECT count(*) FROM organizations WHERE name = 'АНО Семь'") == 1)
    }

    @Test func partialImportOfTwoFilesRefusesOnlyTheBadRow() throws {
        let t = try TestDatabase()
        _ = try t.importCSV(["1,АНО Одна,ngo,RU-PER,,,,1155958122242,,,,58.0105,56.2502"])
        let header = "id,name,kind,region_iso,settlement,address,inn,ogrn,categories,founded_year,website,lat,lon\n"
        let a = try t.file("a.csv", header + "2,АНО Две,ngo,RU-PER,,,,,,,,58.0105,56.2502\n")
        let b = try t.file("b.csv", header + "3,АНО Три,ngo,RU-PER,,,,1155958122242,,,,58.0105,56.2502\n")  // ОГРН of 1
        let summary = try t.database.importFiles([a, b], options: ImportOptions(partial: true), currentYear: 2026)
        #expect(summary.added == 1 && summary.rejected == 1 && summary.updated == 0)
        #expect(try t.count("SELECT count(*) FROM organizations WHERE id = 2") == 1)
    }

    @Test func problemsOfSeveralFilesNameTheirFile() throws {
        let t = try TestDatabase()
        _ = try t.importCSV(["1,АНО Одна,ngo,RU-PER,,,,1155958122242,,,,58.0105,56.2502"])
        let header = "id,name,kind,region_iso,settlement,address,inn,ogrn,categories,founded_year,website,lat,lon\n"
        let a = try t.file("a.csv", header + "2,АНО Две,ngo,RU-PER,,,,,,,,58.0105,56.2502\n")
        let b = try t.file("b.csv", header + [
            "2,АНО Две ещё раз,ngo,RU-PER,,,,,,,,58.0105,56.2502",  // the id of a.csv's line 2
            "3,АНО Три,ngo,RU-PER,,,,1155958122242,,,,58.0105,56.2502",  // the ОГРН of 1 (write stage)
            "4,АНО Четыре,ngo,RU-PER,,,,,,,,95.0,56.2502",  // validation
        ].joined(separator: "\n") + "\n")
        let summary = try t.database.importFiles([a, b], options: ImportOptions(partial: true), currentYear: 2026)
        let places = Set(summary.problems.map(\.place))
        #expect(places == ["\(b), line 2", "\(b), line 3", "\(b), line 4"], "\(summary.problems)")
        #expect(summary.problems.contains { $0.line == 2 && $0.reason.contains("repeats the organisation of \(a), line 2") })
        #expect(summary.problems.allSatisfy { $0.description.hasPrefix(b + ", line ") })
        // One file: the problems say only the line, as before.
        let one = try t.database.importFiles([b], options: ImportOptions(dryRun: true), currentYear: 2026)
        #expect(!one.problems.isEmpty && one.problems.allSatisfy { $0.file == nil })
    }

    @Test func invalidCalendarDatesAreRejectedByTheValidator() throws {
        let t = try TestDatabase()
        let doc = """
            {"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Point","coordinates":[56.25,58.01]},
            "properties":{"name":"Площадка","kind":"internship_site","programmes":[{"title":"Т","length_days":1,"starts_on":"2025-02-30"}]}},
            {"type":"Feature","geometry":{"type":"Point","coordinates":[56.25,58.01]},
            "properties":{"name":"Другая","kind":"internship_site","programmes":"none"}}]}
            """
        let summary = try t.database.importFiles([try t.file("dates.geojson", doc)], options: ImportOptions(partial: true), currentYear: 2026)
        #expect(summary.problems.contains { $0.line == 1 && $0.field == "programmes[0].starts_on" })
        #expect(summary.problems.contains { $0.line == 2 && $0.field == "programmes" })
        #expect(summary.rejected == 2 && summary.added == 0)
        #expect(try t.count("SELECT count(*) FROM organizations") == 0)
    }

    @Test func changingKindRemovesProgrammes() throws {
        let t = try TestDatabase(demo: true)
        #expect(try t.count("SELECT count(*) FROM programmes WHERE organization_id = 1") == 1)
        try t.database.writer.write { db in try db.execute(sql: "UPDATE organizations SET kind = 'ngo' WHERE id = 1") }
        #expect(try t.count("SELECT count(*) FROM programmes WHERE organization_id = 1") == 0)
    }

    @Test func aServerSeesRegionsChangedByAnotherProcess() async throws {
        let t = try TestDatabase()
        let before = try await t.database.regions().region("RU-PER")!.centre
        let other = try CivicMapDatabase(path: t.directory.appendingPathComponent("test.sqlite").path)
        var regions = try other.regionDirectory().regions
        let i = regions.firstIndex { $0.iso == "RU-PER" }!
        regions[i].centre = Coordinate(trustedLatitude: 59.0152, longitude: 54.6532)
        try other.loadRegions(regions, by: "cli:test")
        let after = try await t.database.regions().region("RU-PER")!.centre
        #expect(before.latitude == 58.0105 && after.latitude == 59.0152)
    }
}
