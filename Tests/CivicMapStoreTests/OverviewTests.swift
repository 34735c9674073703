import CivicMapCore
import Foundation
import Testing

@testable import CivicMapStore

/// The overview counted from the point index must equal the one SQL groups from the rows.
@Suite struct OverviewTests {
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

    static func query(_ t: TestDatabase, _ parameters: [(String, String)]) throws -> FeatureQuery {
        let all = try t.database.kindInfos().map(\.kind)
        return try FeatureQueryParser(kinds: all, regions: t.database.regionDirectory())
            .parse(parameters.map { (name: $0.0, value: $0.1) }, collectionKinds: all, paged: false)
    }

    static func cellDegrees(zoom: Int) -> Double { 360 / Double(1 << zoom) / 4 }

    static func overview(_ t: TestDatabase, _ parameters: [(String, String)], zoom: Int) async throws -> Overview {
        try await t.database.overview(matching: try query(t, parameters), cellDegrees: cellDegrees(zoom: zoom))
    }

    /// Parts in a fixed order, with sums rounded below float noise (the two add in different orders).
    static func sorted(_ parts: [OverviewPart]) -> [String] {
        parts.map { "\($0.gx) \($0.gy) \($0.kind.rawValue) \($0.count) \(($0.sumLon * 1e6).rounded()) \(($0.sumLat * 1e6).rounded())" }.sorted()
    }

    @Test func indexAndSQLGroupingAgree() async throws {
        let t = try Self.database()
        let cases: [([(String, String)], Int)] = [
            ([], 2), ([], 5), ([], 10), ([("kind", "tos")], 6), ([("region_iso", "RU-PER")], 7),
            ([("bbox", "53.1234565,57.0000005,58.2222225,59.9876545")], 6),
            ([("bbox", "53.1234565,57.0000005,58.2222225,59.9876545"), ("kind", "ngo,internship_site")], 9),
            ([("bbox", "56.2200005,57.9900005,56.2800005,58.0400005")], 8),  // narrower than any cell
            ([("bbox", "170,60,-170,70")], 4),  // across the antimeridian
            ([("min_distance_km", "100"), ("region_iso", "RU-PER,RU-KIR")], 6),
        ]
        for (parameters, zoom) in cases {
            let q = try Self.query(t, parameters)
            #expect(PointIndex.answersOverview(q))
            let (index, rows) = try await t.database.writer.read { db in
                (try #require(try t.database.pointIndex(db)).overviewParts(matching: q, cellDegrees: Self.cellDegrees(zoom: zoom)),
                 try t.database.groupedOverviewParts(db, q, cellDegrees: Self.cellDegrees(zoom: zoom)))
            }
            #expect(!rows.isEmpty || parameters.first?.1 == "170,60,-170,70", "\(parameters) zoom \(zoom)")
            #expect(Self.sorted(index) == Self.sorted(rows), "\(parameters) zoom \(zoom)")
        }
    }

    @Test func aChangeIsCountedAtOnce() async throws {
        let t = try Self.database()
        let before = try await Self.overview(t, [], zoom: 4).numberMatched
        _ = try t.importCSV([",АНО «Новая точка»,ngo,RU-PER,Пермь,,,,,,,58.0105,56.2502"])
        #expect(try await Self.overview(t, [], zoom: 4).numberMatched == before + 1)
        // Text is not in the index: grouped from the rows.
        let text = try Self.query(t, [("q", "Новая точка")])
        #expect(!PointIndex.answersOverview(text))
        #expect(try await t.database.overview(matching: text, cellDegrees: Self.cellDegrees(zoom: 4)).numberMatched == 1)
    }
}
