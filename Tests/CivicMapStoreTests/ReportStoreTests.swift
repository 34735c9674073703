import CivicMapCore
import Foundation
import GRDB
import Testing

@testable import CivicMapStore

@Suite("Coordinator questions on the real store")
struct ReportStoreTests {
    /// Every organisation with its point, read straight from the table (the brute-force oracle).
    static func all(_ t: TestDatabase) throws -> [(id: Int64, kind: String, region: String, point: Coordinate, centreKm: Double)] {
        try t.database.writer.read { db in
            try Row.fetchAll(db, sql: "SELECT id, kind, region_code, lat, lon, distance_to_centre_m FROM organizations").map {
                ($0[0], $0[1], $0[2], Coordinate(trustedLatitude: $0[3], longitude: $0[4]), ($0[5] as Double) / 1000)
            }
        }
    }

    @Test func radiusSelectsExactlyThePointsWithinTheGeodesicDistance() async throws {
        let t = try TestDatabase(demo: true)
        let yakutsk = Coordinate(trustedLatitude: 62.0311, longitude: 129.7229)
        for km in [1.0, 160.0, 820.0, 5000.0] {
            let page = try await t.query([("near", "129.7229,62.0311"), ("radius_km", String(km)), ("limit", "1000")])
            let expected = try Self.all(t).filter { Geodesic.wgs84.distance(from: yakutsk, to: $0.point) <= km * 1000 }.map(\.id)
            #expect(Set(page.organisations.compactMap(\.id)) == Set(expected), "radius \(km) km")
            #expect(page.numberMatched == expected.count)
            let distances = page.organisations.compactMap(\.distanceToPointMetres)
            #expect(distances == distances.sorted())
        }
    }

    @Test func nearestSitesOfProjectnayaSredaStartAtPerm() async throws {
        let t = try TestDatabase(demo: true)
        let matching = Matching(source: t.database)
        let origin = try await matching.organisation("20", parameter: "organization")
        let (sites, matched) = try await matching.nearestSites(to: origin, k: 3, sameRegion: false)
        #expect(sites.map(\.id) .first == 21)
        #expect(abs((sites[0].distanceToPointMetres ?? 0) - 145_552.679) < 1)
        #expect(sites.allSatisfy { $0.kind == .internshipSite })
        #expect(matched == (try Self.all(t).filter { $0.kind == "internship_site" }.count))
        let sameRegion = try await matching.nearestSites(to: origin, k: 3, sameRegion: true)
        #expect(sameRegion.sites.map(\.id) == [21] && sameRegion.matched == 1)
        // A site is not its own match.
        let site = try await matching.organisation("1", parameter: "site")
        let others = try await matching.nearestSites(to: site, k: 10, sameRegion: true)
        #expect(!others.sites.contains { $0.id == 1 } && others.matched == others.sites.count && others.matched == 3)
    }

    @Test func remoteOrganisationsWithinReachOfASite() async throws {
        let t = try TestDatabase(demo: true)
        let matching = Matching(source: t.database)
        let site = try await matching.organisation("1", parameter: "site")  // ЕРЦ, Yakutsk
        var query = try await matching.remoteOrganisationsQuery(site: site, ["radius_km": "900", "threshold_km": "50"], defaultThresholdKm: 50)
        query.limit = 100
        let page = try await t.database.organisations(matching: query)
        let expected = try Self.all(t).filter {
            $0.kind != "internship_site" && $0.region == "14" && $0.centreKm >= 50
                && Geodesic.wgs84.distance(from: site.location, to: $0.point) <= 900_000
        }
        #expect(Set(page.organisations.compactMap(\.id)) == Set(expected.map(\.id)))
        #expect(!expected.isEmpty)
        let ngo = try await matching.organisation("20", parameter: "site")
        await #expect { try await matching.remoteOrganisationsQuery(site: ngo, [:], defaultThresholdKm: 50) } throws: { error in
            guard case CivicMapError.invalidParameter(let name, _) = error else { return false }
            return name == "site"
        }
    }

    @Test func regionReportAgreesWithTheRows() async throws {
        let t = try TestDatabase(demo: true)
        let kinds: [OrganisationKind] = [.ngo, .tos, .internshipSite]
        let report = try await t.database.regionReport(RegionReportQuery(regionCode: "14", kinds: kinds, thresholdKm: 50, coverageRadiusKm: 25, top: 3))
        let rows = try Self.all(t).filter { $0.region == "14" }
        #expect(report.organisations == rows.count)
        #expect(report.remote == rows.filter { $0.centreKm >= 50 }.count)
        for line in report.byKind {
            #expect(line.organisations == rows.filter { $0.kind == line.kind.kind.rawValue }.count)
        }
        #expect(report.distances.bins.reduce(0) { $0 + $1.count } == rows.count)
        #expect(abs((report.distances.maxKm ?? 0) - rows.map(\.centreKm).max()!) < 1e-6)
        let sorted = rows.map(\.centreKm).sorted()
        let middle = sorted.count / 2
        let median = sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
        #expect(abs((report.distances.medianKm ?? -1) - median) < 1e-9, "\(sorted)")
        #expect(report.mostRemote.map(\.distanceKm) == Array(sorted.reversed().prefix(3)))

        // Coverage against brute force over the bundled places of Yakutia.
        let places = try SettlementReader.read(path: TestDatabase.repository.path + "/data/settlements_ru.csv").filter { $0.regionCode == "14" }
        let points = try Self.all(t).map(\.point)
        let covered = places.filter { p in points.contains { Geodesic.wgs84.distance(from: p.location, to: $0) <= 25_000 } }
        #expect(report.coverage.settlements == places.count)
        #expect(report.coverage.covered == covered.count)
        #expect(report.coverage.uncovered.count == places.count - covered.count)
        #expect(report.coverage.population == places.reduce(0) { $0 + $1.population })
        let populations = report.coverage.uncovered.map(\.population)
        #expect(populations == populations.sorted(by: >))
        for place in report.coverage.uncovered.prefix(20) {
            let nearest = points.map { Geodesic.wgs84.distance(from: place.location, to: $0) }.min()! / 1000
            if let km = place.nearestKm { #expect(abs(km - nearest) < 1e-6) } else { #expect(nearest > 100) }
        }
    }

    @Test(arguments: [30.0, 50.0, 160.0, 0.0, 5000.0])
    func histogramBinsSplitAtTheThreshold(thresholdKm: Double) async throws {
        let t = try TestDatabase(demo: true)
        let report = try await t.database.regionReport(RegionReportQuery(regionCode: "14", kinds: [.ngo, .tos, .internshipSite], thresholdKm: thresholdKm))
        let distances = try Self.all(t).filter { $0.region == "14" }.map(\.centreKm)
        let bins = report.distances.bins
        #expect(bins.first?.fromKm == 0)
        for (a, b) in zip(bins, bins.dropFirst()) { #expect(a.toKm == b.fromKm) }
        for bin in bins.dropLast() {
            #expect(bin.count == distances.filter { $0 >= bin.fromKm && $0 < bin.toKm }.count, "\(bin)")
            #expect(bin.toKm <= thresholdKm || bin.fromKm >= thresholdKm, "\(bin) straddles \(thresholdKm)")
        }
        #expect(bins.reduce(0) { $0 + $1.count } == distances.count)
    }

    @Test func aRegionWithoutOrganisationsReportsZeros() async throws {
        let t = try TestDatabase(demo: true)
        let report = try await t.database.regionReport(RegionReportQuery(regionCode: "25", kinds: [.ngo], thresholdKm: 50))
        #expect(report.organisations == 0 && report.distances.bins.isEmpty && report.distances.medianKm == nil)
        #expect(report.coverage.covered == 0 && report.coverage.settlements > 0)
    }

    @Test func programmesAreListedSoonestFirst() async throws {
        let t = try TestDatabase()
        func programme(_ title: String, _ starts: String?, _ ends: String?, _ status: String, _ topics: [String]) -> String {
            let dates = [starts.map { "\"starts_on\":\"\($0)\"" }, ends.map { "\"ends_on\":\"\($0)\"" }].compactMap { $0 }
            return "{\"title\":\"\(title)\",\"length_days\":2,\"selection_status\":\"\(status)\",\"topics\":[\(topics.map { "\"\($0)\"" }.joined(separator: ","))]\(dates.isEmpty ? "" : "," + dates.joined(separator: ","))}"
        }
        let perm = [
            programme("Весна", "2027-04-01", "2027-04-02", "open", ["фандрайзинг"]),
            programme("Зима", "2026-12-10", "2026-12-11", "open", ["ТОС"]),
            programme("Прошлое", "2025-01-10", "2025-01-11", "open", ["ТОС"]),
            programme("Без дат", nil, nil, "planned", []),
            programme("Закрыт", "2026-12-20", nil, "closed", []),
        ]
        let geojson = """
            {"type":"FeatureCollection","features":[
            {"type":"Feature","geometry":{"type":"Point","coordinates":[56.25,58.01]},"properties":{"name":"Площадка Пермь","kind":"internship_site","region_iso":"RU-PER","programmes":[\(perm.joined(separator: ","))]}},
            {"type":"Feature","geometry":{"type":"Point","coordinates":[129.72,62.03]},"properties":{"name":"Площадка Якутск","kind":"internship_site","region_iso":"RU-SA","programmes":[\(programme("Север", "2026-12-01", "2026-12-05", "open", ["ТОС"]))]}}
            ]}
            """
        let summary = try t.database.importFiles([try t.file("sites.geojson", geojson)], currentYear: 2026)
        #expect(summary.problems.isEmpty, "\(summary.problems)")

        var q = ProgrammeQuery()
        q.from = "2026-11-23"
        var page = try await t.database.programmes(matching: q)
        #expect(page.listings.map(\.programme.title) == ["Север", "Зима", "Весна", "Без дат"])
        #expect(page.numberMatched == 4)
        #expect(page.listings[0].site.name == "Площадка Якутск" && page.listings[0].site.regionISO == "RU-SA")
        q.regionCodes = ["59"]
        q.topics = ["ТОС"]
        page = try await t.database.programmes(matching: q)
        #expect(page.listings.map(\.programme.title) == ["Зима"])
        q = ProgrammeQuery()
        q.statuses = [.closed]
        q.limit = 1
        page = try await t.database.programmes(matching: q)
        #expect(page.listings.map(\.programme.title) == ["Закрыт"] && page.numberMatched == 1)
    }

    @Test func importsTheFileExcelSavesInARussianLocale() throws {
        let t = try TestDatabase()
        let text = "Название;Вид;Код региона ISO;Населённый пункт;Широта;Долгота\r\nФонд «Ёлка»;НКО;RU-PER;Кудымкар;59,0131;54,6556\r\nТОС «Заря»;ТОС;RU-PER;Пермь;58,0105;56,2502\r\n"
        let path = t.directory.appendingPathComponent("excel.csv").path
        try Data(Windows1251.encode(Array(text.utf8))).write(to: URL(fileURLWithPath: path))
        let summary = try t.database.importFiles([path], currentYear: 2026)
        #expect(summary.problems.isEmpty, "\(summary.problems)")
        #expect(summary.added == 2)
        #expect(summary.csvDialects.first?.dialect.encoding == .windows1251)
        #expect(try t.count("SELECT count(*) FROM organizations WHERE name = 'Фонд «Ёлка»' AND kind = 'ngo' AND abs(lat - 59.0131) < 1e-9") == 1)
        #expect(try t.count("SELECT count(*) FROM organizations WHERE kind = 'tos'") == 1)
    }
}
