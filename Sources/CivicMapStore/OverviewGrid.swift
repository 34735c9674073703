import CivicMapCore
import GRDB

/// Counts and coordinate sums per fine grid cell, kind and region, held in memory (16,397
/// entries, about 1.2 MB, for the benchmark's 200,000 organisations). Overview cells are power-of-two multiples of
/// the fine cell (360° / 2^(zoom+2) against 360° / 2^12), so they roll up exactly: grouping every
/// row took 150–250 ms at low zoom. Rebuilt when the audit log, which every change of
/// organisations appends to, has grown.
struct OverviewGrid: Sendable {
    static let level = 12
    static let cellDegrees = 360 / Double(1 << level)

    struct Entry: Sendable {
        var gx: Int, gy: Int
        var kind: OrganisationKind
        var regionCode: String
        var count: Int
        var sumLon: Double, sumLat: Double
    }

    /// One row of an overview before merging: what `OrganisationSQL.overview` selects.
    typealias Part = (gx: Int, gy: Int, kind: OrganisationKind, count: Int, sumLon: Double, sumLat: Double)

    let entries: [Entry]

    /// What the grid is built from and checked against: the last audit entry.
    static func version(_ db: Database) throws -> Int64 {
        try Int64.fetchOne(db.cachedStatement(sql: "SELECT coalesce(max(id), 0) FROM audit_log")) ?? 0
    }

    static func load(_ db: Database) throws -> OverviewGrid {
        let entries = try Row.fetchAll(db, sql: OrganisationSQL.overview(cellDegrees: cellDegrees)).map { row in
            Entry(gx: row[0], gy: row[1], kind: OrganisationKind(rawValue: row[2]), regionCode: row[3],
                  count: row[4], sumLon: row[5], sumLat: row[6])
        }
        return OverviewGrid(entries: entries)
    }

    /// The grid answers queries filtered by kinds, regions and one box not crossing ±180°, at
    /// cells no finer than its own.
    static func answers(_ q: FeatureQuery, cellDegrees: Double) -> Bool {
        q.categories.isEmpty && q.excludedID == nil && q.text == nil && q.minDistanceKm == nil && q.maxDistanceKm == nil
            && q.near == nil && q.bbox?.crossesAntimeridian != true && cellDegrees >= Self.cellDegrees
            && (cellDegrees / Self.cellDegrees).rounded() == cellDegrees / Self.cellDegrees
    }

    /// The fine cells wholly inside a box: half-open index ranges (empty when the box is narrower).
    static func interior(of box: BoundingBox) -> (x: Range<Int>, y: Range<Int>) {
        let x0 = Int(((box.west + 180) / cellDegrees).rounded(.up)), x1 = Int(((box.east + 180) / cellDegrees).rounded(.down))
        let y0 = Int(((box.south + 90) / cellDegrees).rounded(.up)), y1 = Int(((box.north + 90) / cellDegrees).rounded(.down))
        return (x0..<max(x0, x1), y0..<max(y0, y1))
    }

    /// The query's parts from the fine cells inside its box (all of them without one), rolled up
    /// to cells of `cellDegrees`.
    func parts(_ q: FeatureQuery, cellDegrees: Double, allKinds: [OrganisationKind]) -> [Part] {
        let factor = Int((cellDegrees / Self.cellDegrees).rounded())
        let kinds = Set(q.kinds), regions = Set(q.regionCodes)
        let inside = q.bbox.map(Self.interior)
        var rolled: [Int: Part] = [:]
        for e in entries where kinds.contains(e.kind) && (regions.isEmpty || regions.contains(e.regionCode)) {
            if let inside, !(inside.x.contains(e.gx) && inside.y.contains(e.gy)) { continue }
            let gx = e.gx / factor, gy = e.gy / factor
            let key = (gx << 24 | gy) << 8 | (allKinds.firstIndex(of: e.kind) ?? 255)
            var part = rolled[key] ?? (gx, gy, e.kind, 0, 0, 0)
            part.count += e.count
            part.sumLon += e.sumLon
            part.sumLat += e.sumLat
            rolled[key] = part
        }
        return Array(rolled.values)
    }
}
