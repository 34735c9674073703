import CivicMapCore
import Foundation
import GRDB
import Testing

@testable import CivicMapStore

/// Pages of boxes, regions and remoteness are counted and ordered from the in-memory
/// `PointIndex`; every answer must equal the SQL filter's, edges included, and stay equal
/// after edits, imports and moved centres.
@Suite("Point index")
struct PointIndexTests {
    static let kinds: [OrganisationKind] = [.ngo, .tos, .internshipSite]
    static let admin = Editor(name: "admin", role: .admin, regionCode: nil)

    static func query(box: BoundingBox? = nil, regions: [String] = [], kinds: [OrganisationKind] = kinds,
                      minKm: Double? = nil, maxKm: Double? = nil, excluded: Int64? = nil, descending: Bool = false) -> FeatureQuery {
        var q = FeatureQuery(kinds: kinds)
        q.bbox = box
        q.regionCodes = regions
        q.minDistanceKm = minKm
        q.maxDistanceKm = maxKm
        q.excludedID = excluded
        q.sort = [SortKey(.id, descending: descending)]
        q.limit = nil
        return q
    }

    /// Every matching id through SQL, in the query's order.
    static func sqlIDs(_ t: TestDatabase, _ q: FeatureQuery) throws -> [Int64] {
        try t.database.writer.read { db in
            let order = OrganisationSQL.inOrder(q, filter: OrganisationSQL.filter(q, allKinds: kinds), columns: "o.id")
            return try Int64.fetchAll(db, sql: order.sql, arguments: order.arguments)
        }
    }

    static func indexIDs(_ t: TestDatabase, _ q: FeatureQuery) throws -> [Int64] {
        #expect(PointIndex.answers(q))
        return try t.database.writer.read { db in try #require(try t.database.pointIndex(db)).page(matching: q).points.map(\.id) }
    }

    static let boxes = [
        BoundingBox(west: 19, south: 41, east: 180, north: 82),  // all of Russia but Chukotka's far east
        BoundingBox(west: 55, south: 57, east: 57, north: 59),  // around Perm
        BoundingBox(west: 170, south: 60, east: -170, north: 70),  // across the antimeridian
        BoundingBox(west: -180, south: -90, east: 180, north: 90),  // the world: every filled cell
        BoundingBox(west: 0, south: 0, east: 1, north: 1),  // empty
    ]

    static let queries: [FeatureQuery] =
        boxes.flatMap { box in
            [query(box: box), query(box: box, descending: true), query(box: box, kinds: [.tos, .internshipSite]),
             query(box: box, minKm: 50), query(box: box, maxKm: 50, excluded: 3)]
        } + [
            query(regions: ["59"]), query(regions: ["59", "14", "02"], minKm: 50), query(regions: ["14"], maxKm: 50),
            query(box: boxes[1], regions: ["59"]), query(regions: ["59"], kinds: [.internshipSite], descending: true),
            query(regions: ["00"]),  // no such region
        ]

    static func expectIndexEqualsSQL(_ t: TestDatabase, _ context: String) throws {
        for q in queries {
            #expect(try indexIDs(t, q) == (try sqlIDs(t, q)), "\(context): \(q)")
        }
    }

    @Test func answersEqualSQL() async throws {
        let t = try TestDatabase(demo: true)
        #expect(try Self.sqlIDs(t, Self.query(box: Self.boxes[0])).count > 10)
        try Self.expectIndexEqualsSQL(t, "demo data")
    }

    @Test func aBoxAtEachExactPointFindsThatOrganisation() async throws {
        let t = try TestDatabase(demo: true)
        var all = FeatureQuery(kinds: Self.kinds)
        all.limit = 1000
        for o in try await t.database.organisations(matching: all).organisations {
            let point = BoundingBox(west: o.location.longitude, south: o.location.latitude,
                                    east: o.location.longitude, north: o.location.latitude)
            #expect(try Self.indexIDs(t, Self.query(box: point)).contains(o.id!), "\(o.name)")
            // A millionth of a degree beside the point: not found.
            let beside = BoundingBox(west: o.location.longitude + 1e-6, south: o.location.latitude,
                                     east: o.location.longitude + 1, north: o.location.latitude + 1)
            #expect(!(try Self.indexIDs(t, Self.query(box: beside))).contains(o.id!), "\(o.name)")
        }
    }

    @Test func pagesCutTheIndexOrderAndCountEveryMatch() async throws {
        let t = try TestDatabase(demo: true)
        let all = try Self.sqlIDs(t, Self.query(box: Self.boxes[0], descending: true))
        for (limit, offset) in [(1000, 0), (3, 0), (3, 3), (5, 100)] {
            var q = Self.query(box: Self.boxes[0], descending: true)
            q.limit = limit
            q.offset = offset
            let page = try await t.database.features(matching: q)
            #expect(page.numberMatched == all.count)
            #expect(page.features.map(\.id) == Array(all.dropFirst(offset).prefix(limit)), "limit \(limit) offset \(offset)")
        }
    }

    /// Pages are cut by selecting their first and last ranks, not by sorting every match: each
    /// page, ascending and descending, must be SQL's slice, across cells whose id runs interleave.
    @Test func pagesOfManyMatchesEqualSQLSlices() async throws {
        let t = try TestDatabase()
        var random = SplitMix(seed: 104)
        var ids = Set<Int64>()
        while ids.count < 2_500 { ids.insert(Int64.random(in: 1...1_000_000, using: &random)) }
        // In id order: a Set's order differs from run to run, and the points should not.
        let rows = ids.sorted().map { id in
            "\(id),АНО \(id),ngo,RU-PER,Пермь,,,,,,,\(Double.random(in: 57.9...58.2, using: &random)),\(Double.random(in: 55.8...56.6, using: &random))"
        }
        #expect(try t.importCSV(rows).added == 2_500)
        let box = BoundingBox(west: 55.7, south: 57.8, east: 56.7, north: 58.3)
        for descending in [false, true] {
            let all = try Self.sqlIDs(t, Self.query(box: box, descending: descending))
            #expect(all.count == 2_500)
            for (offset, limit) in [(0, 1), (0, 1000), (1, 1), (999, 2), (1234, 1000), (2000, 1000), (2499, 5), (2500, 5), (0, 2500), (7, 0)] {
                var q = Self.query(box: box, descending: descending)
                q.offset = offset
                q.limit = limit
                let query = q
                let page = try await t.database.writer.read { db in try #require(try t.database.pointIndex(db)).page(matching: query) }
                #expect(page.matched == 2_500)
                let expected = Array(all.dropFirst(offset).prefix(limit)), got = page.points.map(\.id)
                // Compared apart from #expect, which would print thousands of ids.
                let same = got == expected
                #expect(same, "offset \(offset) limit \(limit) descending \(descending): \(got.prefix(3)) against \(expected.prefix(3))")
            }
        }
    }

    @Test func selectionFindsEachRank() {
        var random = SplitMix(seed: 131)
        for size in [1, 2, 3, 10, 257, 5000] {
            // Sorted runs, as cells hold them.
            var ids = Array(Set((0..<size * 3).map { _ in Int64.random(in: 0...Int64(size * 100), using: &random) }).sorted().prefix(size))
            ids = stride(from: 0, to: ids.count, by: 7).flatMap { start in ids[start..<min(ids.count, start + 7)] }.shuffled(using: &random)
                .chunked(sortedBy: 3)
            let sorted = ids.sorted()
            for _ in 0..<20 {
                let first = Int.random(in: 0..<ids.count, using: &random), last = Int.random(in: first..<ids.count, using: &random)
                var work = ids
                #expect(PointIndex.select(first, in: &work, from: 0) == sorted[first])
                #expect(work[..<first].allSatisfy { $0 < sorted[first] } && work[(first + 1)...].allSatisfy { $0 > sorted[first] })
                #expect(PointIndex.select(last, in: &work, from: first) == sorted[last])
            }
        }
    }

    @Test func editsImportsAndMovedCentresKeepItEqualToSQL() async throws {
        let t = try TestDatabase(demo: true)
        try Self.expectIndexEqualsSQL(t, "before")
        // Created in Kudymkar (Perm Krai), moved to Yakutsk, then deleted; another deleted outright.
        let created = try await t.database.apply(
            .create(ImportRecord(line: 1, fields: [
                "name": "АНО «Новая среда»", "kind": "ngo", "region_iso": "RU-PER", "settlement": "Кудымкар",
                "lat": "59.0152", "lon": "54.6532",
            ])), by: Self.admin, ifMatch: nil, kinds: Self.kinds)
        let id = created.id
        try Self.expectIndexEqualsSQL(t, "created")
        #expect(try Self.indexIDs(t, Self.query(regions: ["59"], minKm: 100)).contains(id))
        _ = try await t.database.apply(
            .update(id: id, ImportRecord(line: 1, fields: [
                "name": "АНО «Новая среда»", "kind": "tos", "region_iso": "RU-SA", "settlement": "Якутск",
                "lat": "62.0355", "lon": "129.6755",
            ])), by: Self.admin, ifMatch: created.entityTag, kinds: Self.kinds)
        try Self.expectIndexEqualsSQL(t, "moved")
        #expect(try Self.indexIDs(t, Self.query(regions: ["14"], kinds: [.tos])).contains(id))
        #expect(!(try Self.indexIDs(t, Self.query(regions: ["59"]))).contains(id))
        let stored = try #require(try await t.database.feature(id: id))
        _ = try await t.database.apply(.delete(id: id), by: Self.admin, ifMatch: EntityTag.of(stored.bytes), kinds: Self.kinds)
        try Self.expectIndexEqualsSQL(t, "deleted")
        // An import (one audit entry for many rows) and a moved centre (no audit entry) reload it.
        _ = try t.importCSV(["9001,АНО «Север»,ngo,RU-SA,Тикси,,,,,2020,,71.6872,128.8694"])
        try Self.expectIndexEqualsSQL(t, "imported")
        #expect(try Self.indexIDs(t, Self.query(regions: ["14"])).contains(9001))
        var regions = try t.database.regionDirectory().regions
        let yakutia = try #require(regions.firstIndex { $0.code == "14" })
        regions[yakutia].centre = try Coordinate(latitude: 71.6872, longitude: 128.8694)
        try t.database.loadRegions([regions[yakutia]], by: "cli:test")
        try Self.expectIndexEqualsSQL(t, "centre moved")
        #expect(!(try Self.indexIDs(t, Self.query(regions: ["14"], minKm: 1))).contains(9001))
    }

    /// A read whose snapshot is older than the index (another request has moved it on) gets no
    /// index, so SQL answers it, not an index ahead of what it reads.
    @Test func aSnapshotOlderThanTheIndexGetsNone() throws {
        let t = try TestDatabase(demo: true)
        // A connection of its own holds the old snapshot while the pool writes and reads on.
        let other = try DatabaseQueue(path: t.directory.appendingPathComponent("test.sqlite").path)
        try other.read { old in
            let before = try PointIndex.version(old)  // takes the snapshot
            #expect(try t.database.pointIndex(old) != nil)
            _ = try t.importCSV(["9002,АНО «Юг»,ngo,RU-PER,Кудымкар,,,,,2020,,59.0152,54.6532"])
            let moved = try t.database.writer.read { db in try #require(try t.database.pointIndex(db)) }
            #expect(before.isOlder(than: moved.version))
            #expect(moved.page(matching: Self.query(regions: ["59"])).points.map(\.id).contains(9002))
            #expect(try t.database.pointIndex(old) == nil)
        }
        try Self.expectIndexEqualsSQL(t, "after the import")
    }
}

extension Array where Element == Int64 {
    /// Cut into runs of `length`, each sorted: the shape of ids gathered cell by cell.
    fileprivate func chunked(sortedBy length: Int) -> [Int64] {
        stride(from: 0, to: count, by: length).flatMap { self[$0..<Swift.min(count, $0 + length)].sorted() }
    }
}
