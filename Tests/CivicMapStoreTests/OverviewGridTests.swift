import CivicMapCore
import Foundation
import Testing

@testable import CivicMapStore

/// The overview rolled up from the in-memory grid must equal the one grouped live from the rows.
@Suite struct OverviewGridTests {
    /// 600 organisations scattered over Perm Krai and its neighbours, plus the demo's 23.
    static func database() throws -> TestDatabase {
        let t = try TestDatabase(demo: true)
        var generator = SystemRandomNumberGenerator()
        let kinds = ["ngo", "tos", "internship_site"]
        let rows = (0..<600).map { n in
            let lat = Double.random(in: 56.5...60.5, using: &generator), lon = Double.random(in: 52.0...59.5, using: &generator)
            return ",АНО «Точка \(n)»,\(kinds[n % 3]),,,,,,,,,\(String(format: "%.6f", lat)),\(String(format: "%.6f", lon))"
        }
        let perm = ",АНО «Пермь»,ngo,RU-PER,Пермь,,,,,,,58.010500,56.250200"
        let summary = try t.importCSV(rows + [perm], options: ImportOptions(partial: true))
        #expect(summary.added > 500)
        return t
    }

    static func overview(_ t: TestDatabase, _ parameters: [(String, String)], zoom: Int) async throws -> Overview {
        let all = try t.database.kindInfos().map(\.kind)
        let q = try FeatureQueryParser(kinds: all, regions: t.database.regionDirectory())
            .parse(parameters.map { (name: $0.0, value: $0.1) }, collectionKinds: all, paged: false)
        return try await t.database.overview(matching: q, cellDegrees: 360 / Double(1 << zoom) / 4)
    }

    @Test func gridAndLiveGroupingAgree() async throws {
        let t = try Self.database()
        // A distance bound no organisation reaches keeps every match but is not in the grid: the live path.
        let live = [("max_distance_km", "20000")]
        let cases: [([(String, String)], Int)] = [
            ([], 2), ([], 5), ([], 10), ([("kind", "tos")], 6), ([("region_iso", "RU-PER")], 7),
            ([("bbox", "53.1234565,57.0000005,58.2222225,59.9876545")], 6),
            ([("bbox", "53.1234565,57.0000005,58.2222225,59.9876545"), ("kind", "ngo,internship_site")], 9),
            ([("bbox", "56.2200005,57.9900005,56.2800005,58.0400005")], 8),  // narrower than a fine cell
        ]
        for (parameters, zoom) in cases {
            let grid = try await Self.overview(t, parameters, zoom: zoom)
            let rows = try await Self.overview(t, parameters + live, zoom: zoom)
            #expect(grid.numberMatched == rows.numberMatched, "\(parameters) zoom \(zoom)")
            #expect(grid.numberMatched > 0, "\(parameters) zoom \(zoom)")
            #expect(grid.cells.count == rows.cells.count, "\(parameters) zoom \(zoom)")
            for (a, b) in zip(grid.cells, rows.cells) {
                #expect(a.count == b.count && a.byKind == b.byKind, "\(parameters) zoom \(zoom)")
                #expect(abs(a.longitude - b.longitude) < 1e-9 && abs(a.latitude - b.latitude) < 1e-9)
            }
        }
    }

    @Test func aChangeRebuildsTheGrid() async throws {
        let t = try Self.database()
        let before = try await Self.overview(t, [], zoom: 4).numberMatched
        _ = try t.importCSV([",АНО «Новая точка»,ngo,RU-PER,Пермь,,,,,,,58.0105,56.2502"])
        #expect(try await Self.overview(t, [], zoom: 4).numberMatched == before + 1)
    }
}
