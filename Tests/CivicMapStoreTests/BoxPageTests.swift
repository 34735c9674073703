import CivicMapCore
import Foundation
import Testing

@testable import CivicMapStore

/// Pages of a bounding box alone are counted and ordered from the R*Tree; they must equal the
/// general path (the same box with a filter that excludes nothing), edges included.
@Suite("Box pages from the R*Tree")
struct BoxPageTests {
    static let kinds: [OrganisationKind] = [.ngo, .tos, .internshipSite]

    static func page(_ t: TestDatabase, _ box: BoundingBox, general: Bool, limit: Int = 1000, offset: Int = 0,
                     descending: Bool = false) async throws -> (ids: [Int64], matched: Int) {
        var q = FeatureQuery(kinds: kinds)
        q.bbox = box
        q.limit = limit
        q.offset = offset
        q.sort = [SortKey(.id, descending: descending)]
        if general { q.maxDistanceKm = 100_000 }  // excludes nothing, but is not a box alone
        #expect((OrganisationSQL.boxOnlyIDs(q, allKinds: kinds) == nil) == general)
        let page = try await t.database.features(matching: q)
        return (page.features.map(\.id), page.numberMatched)
    }

    @Test func aBoxAtEachExactPointFindsThatOrganisation() async throws {
        let t = try TestDatabase(demo: true)
        var all = FeatureQuery(kinds: Self.kinds)
        all.limit = 1000
        for o in try await t.database.organisations(matching: all).organisations {
            let point = BoundingBox(west: o.location.longitude, south: o.location.latitude,
                                    east: o.location.longitude, north: o.location.latitude)
            let fast = try await Self.page(t, point, general: false)
            #expect(fast.ids.contains(o.id!), "\(o.name)")
            #expect(fast == (try await Self.page(t, point, general: true)))
            // Nudged off the point by a millionth of a degree (below float32's step there): not found.
            let beside = BoundingBox(west: o.location.longitude + 1e-6, south: o.location.latitude,
                                     east: o.location.longitude + 1, north: o.location.latitude + 1)
            #expect(!(try await Self.page(t, beside, general: false)).ids.contains(o.id!), "\(o.name)")
        }
    }

    @Test(arguments: [
        BoundingBox(west: 19, south: 41, east: 180, north: 82),  // all of Russia but Chukotka's far east
        BoundingBox(west: 55, south: 57, east: 57, north: 59),  // around Perm
        BoundingBox(west: 170, south: 60, east: -170, north: 70),  // across the antimeridian
        BoundingBox(west: 0, south: 0, east: 1, north: 1),  // empty
    ])
    func pagesEqualTheGeneralPath(box: BoundingBox) async throws {
        let t = try TestDatabase(demo: true)
        for (limit, offset, descending) in [(1000, 0, false), (3, 0, false), (3, 3, true), (5, 100, false)] {
            let fast = try await Self.page(t, box, general: false, limit: limit, offset: offset, descending: descending)
            let general = try await Self.page(t, box, general: true, limit: limit, offset: offset, descending: descending)
            #expect(fast == general, "limit \(limit) offset \(offset)")
        }
    }
}
