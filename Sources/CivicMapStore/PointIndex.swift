import CivicMapCore
import GRDB

/// Every organisation's position, kind, region and remoteness in memory, by grid cell and by
/// region, each list in id order (two copies of 40 bytes per organisation: 16 MB for 200,000).
/// Pages filtered by a box, regions, kinds and remoteness, ordered by id, are counted and cut
/// here, so SQL reads only the page's Features. Through the R*Tree a region's box (W2: 10,000–
/// 38,000 matches a page) cost a pass over every match and a sort.
///
/// It follows the audit log, which every change of organisations appends to in the same
/// transaction: an entry for one organisation reloads that row, an import's entry reloads all,
/// and so does a change of regions (moving a centre changes distances without audit entries).
/// One row of an overview before merging cells: what `OrganisationSQL.overview` selects.
typealias OverviewPart = (gx: Int, gy: Int, kind: OrganisationKind, count: Int, sumLon: Double, sumLat: Double)

struct PointIndex: Sendable {
    struct Version: Equatable, Sendable {
        var audit: Int64
        var regions: Int64

        func isOlder(than other: Version) -> Bool { audit < other.audit || regions < other.regions }
        /// For entity tags: every write of organisations or regions changes it.
        var tag: String { "\(audit).\(regions)" }
    }

    struct Point: Sendable, Equatable {
        var id: Int64
        var lon: Double, lat: Double
        /// Metres to the region's centre; NaN for none, which fails every bound, as NULL does in SQL.
        var distance: Double
        var kind: UInt8
        var region: UInt16

        var featureKey: Int64 { FeatureKey.of(id: id, longitude: lon, latitude: lat) }
    }

    /// Cities' viewports span a cell or a few; a region's box a few hundred.
    static let cellDegrees = 0.25
    /// More changed organisations than this since the last version: reloading all is cheaper.
    static let largestDelta = 2_000

    private(set) var version: Version
    private var kinds: [OrganisationKind] = []
    private var regions: [String] = []
    private var regionNumbers: [String: UInt16] = [:]
    private var cells: [Int: [Point]] = [:]
    private var byRegion: [[Point]] = []

    private static let columns = "id, lon, lat, kind, region_code, distance_to_centre_m"

    static func version(_ db: Database) throws -> Version {
        Version(
            audit: try Int64.fetchOne(db.cachedStatement(sql: "SELECT coalesce(max(id), 0) FROM audit_log")) ?? 0,
            regions: try RegionRecord.version(db))
    }

    /// Every row, at `version` (the snapshot's, read by the caller).
    static func load(_ db: Database, version: Version) throws -> PointIndex {
        var index = PointIndex(version: version)
        let rows = try Row.fetchCursor(db, sql: "SELECT \(columns) FROM organizations ORDER BY id")
        while let row = try rows.next() { index.insert(index.point(row)) }
        return index
    }

    /// Brings the index to `target` (the snapshot's version) from the audit entries since its
    /// own; false when that is not worth it (an import, a change of regions, many changes): load instead.
    mutating func update(_ db: Database, to target: Version) throws -> Bool {
        guard target.regions == version.regions else { return false }
        let changed = try Row.fetchAll(
            db, sql: "SELECT DISTINCT organization_id FROM audit_log WHERE id > ?", arguments: [version.audit]
        ).map { $0[0] as Int64? }
        guard changed.count <= Self.largestDelta, !changed.contains(nil) else { return false }
        let ids = changed.compactMap { $0 }
        for id in ids { remove(id: id) }
        let rows = try Row.fetchCursor(
            db, sql: "SELECT \(Self.columns) FROM organizations WHERE id IN (SELECT value FROM json_each(?))",
            arguments: [OrganisationSQL.jsonArray(ids.map(String.init), numbers: true)])
        while let row = try rows.next() { insert(point(row)) }
        version = target
        return true
    }

    /// The pages the index answers: the filters it holds, narrowed by a box or regions (the rest
    /// is the table, which SQL pages by rowid), ordered by id.
    static func answers(_ q: FeatureQuery) -> Bool {
        answersOverview(q) && (q.bbox != nil || !q.regionCodes.isEmpty) && q.sort.allSatisfy { $0.field == .id }
    }

    /// The query's page (`offset`, `limit`) of the matching points in its order, and how many
    /// match. Only the page is sorted: its bounds are found by selection on the ids (a region's
    /// box matches tens of thousands of points, and sorting them all was 9% of W2's CPU).
    func page(matching q: FeatureQuery) -> (matched: Int, points: [Point]) {
        var points: [Point] = []
        forEachMatch(of: q) { points.append($0) }
        let count = points.count
        let start = min(q.offset, count), end = min(count, start + (q.limit ?? count))
        // Ranks in id order: a descending page is the mirror of an ascending one.
        let descending = q.sort.first?.descending == true
        let ranks = descending ? (count - end)..<(count - start) : start..<end
        var page: [Point]
        if ranks.count == count {
            page = points
        } else if ranks.isEmpty {
            page = []
        } else {
            var ids = points.map(\.id)
            let lowest = Self.select(ranks.lowerBound, in: &ids, from: 0)
            let highest = Self.select(ranks.upperBound - 1, in: &ids, from: ranks.lowerBound)
            page = points.filter { $0.id >= lowest && $0.id <= highest }
        }
        // Runs already in id order: the sort merges them.
        page.sort { $0.id < $1.id }
        return (count, descending ? page.reversed() : page)
    }

    /// The id of rank `k` (0-based, ascending) among `ids`, which are distinct, by quickselect:
    /// afterwards ids[k] holds it, no id before it is larger and none after it smaller. Ids
    /// before `lower` must already be no larger than all from `lower` on.
    static func select(_ k: Int, in ids: inout [Int64], from lower: Int) -> Int64 {
        ids.withUnsafeMutableBufferPointer { a in
            var low = lower, high = a.count - 1
            while low < high {
                // Median of three as the pivot: ids arrive as sorted runs.
                let mid = low + (high - low) / 2
                if a[mid] < a[low] { a.swapAt(mid, low) }
                if a[high] < a[low] { a.swapAt(high, low) }
                if a[high] < a[mid] { a.swapAt(high, mid) }
                let pivot = a[mid]
                var i = low, j = high
                while i <= j {
                    while a[i] < pivot { i += 1 }
                    while a[j] > pivot { j -= 1 }
                    if i <= j {
                        a.swapAt(i, j)
                        i += 1
                        j -= 1
                    }
                }
                if k <= j { high = j } else if k >= i { low = i } else { break }
            }
            return a[k]
        }
    }

    /// Every matching point, in storage order (`FeatureKey`).
    func keyedPoints(matching q: FeatureQuery) -> [(id: Int64, key: Int64)] {
        var points: [(id: Int64, key: Int64)] = []
        forEachMatch(of: q) { points.append(($0.id, $0.featureKey)) }
        return points.sorted { $0.key < $1.key }
    }

    /// The box of the points of `wanted` kinds, from their longitude spans per degree, so it
    /// goes the short way round the antimeridian (`BoundingBox.enclosing`).
    func extent(of wanted: [OrganisationKind]) -> BoundingBox? {
        var spans = [(west: Double, east: Double)?](repeating: nil, count: 361)
        var south = 90.0, north = -90.0
        forEachMatch(of: FeatureQuery(kinds: wanted)) { p in
            let degree = Int(p.lon + 180)
            spans[degree] = spans[degree].map { (min($0.west, p.lon), max($0.east, p.lon)) } ?? (p.lon, p.lon)
            south = min(south, p.lat)
            north = max(north, p.lat)
        }
        return BoundingBox.enclosing(spans.compactMap { $0 }, south: south, north: north)
    }

    /// The filters the index holds: all but categories, text and distances from a point.
    static func answersOverview(_ q: FeatureQuery) -> Bool {
        q.categories.isEmpty && q.text == nil && q.near == nil && q.radiusKm == nil
    }

    /// Counts and coordinate sums per overview cell and kind; the cell is the live grouping's
    /// integer cast of `(lon + 180) / cellDegrees`, so both put each point in the same cell.
    func overviewParts(matching q: FeatureQuery, cellDegrees: Double) -> [OverviewPart] {
        var parts: [Int: OverviewPart] = [:]
        forEachMatch(of: q) { p in
            let gx = Int((p.lon + 180) / cellDegrees), gy = Int((p.lat + 90) / cellDegrees)
            let key = (gx << 24 | gy) << 8 | Int(p.kind)
            var part = parts[key] ?? (gx, gy, kinds[Int(p.kind)], 0, 0, 0)
            part.count += 1
            part.sumLon += p.lon
            part.sumLat += p.lat
            parts[key] = part
        }
        return Array(parts.values)
    }

    /// Calls `body` with every point the query matches, region by region or cell by cell. The
    /// tests are the SQL filter's: inclusive bounds on the stored coordinates and distances.
    private func forEachMatch(of q: FeatureQuery, _ body: (Point) -> Void) {
        let wantedKinds = kinds.map(Set(q.kinds).contains)
        let ranges = q.bbox?.longitudeRanges ?? []
        let south = q.bbox?.south ?? -90, north = q.bbox?.north ?? 90
        let minimum = q.minDistanceKm.map { $0 * 1000 }, maximum = q.maxDistanceKm.map { $0 * 1000 }
        func matches(_ p: Point) -> Bool {
            wantedKinds[Int(p.kind)] && p.id != q.excludedID
                && (minimum.map { p.distance >= $0 } ?? true) && (maximum.map { p.distance <= $0 } ?? true)
                && (q.bbox == nil || (south <= p.lat && p.lat <= north && ranges.contains { $0.contains(p.lon) }))
        }
        if !q.regionCodes.isEmpty {
            for code in Set(q.regionCodes) {
                guard let region = regionNumbers[code] else { continue }
                for p in byRegion[Int(region)] where matches(p) { body(p) }
            }
        } else if q.bbox != nil {
            for key in cellKeys(ranges: ranges, south: south, north: north) {
                for p in cells[key] ?? [] where matches(p) { body(p) }
            }
        } else {
            for list in byRegion { for p in list where matches(p) { body(p) } }
        }
    }

    /// The keys of the cells that can hold points of the box: a column and row per cell, or
    /// every filled cell when the box spans more cells than are filled.
    private func cellKeys(ranges: [ClosedRange<Double>], south: Double, north: Double) -> [Int] {
        let rows = Self.row(south)...Self.row(north)
        let columns = ranges.map { Self.column($0.lowerBound)...Self.column($0.upperBound) }
        let spanned = columns.reduce(0) { $0 + $1.count } * rows.count
        if spanned > cells.count {
            return cells.keys.filter { key in rows.contains(key % Self.rowsPerColumn) && columns.contains { $0.contains(key / Self.rowsPerColumn) } }
        }
        return columns.flatMap { c in c.flatMap { x in rows.map { y in x * Self.rowsPerColumn + y } } }
    }

    // Monotonic in the coordinate, so a point inside a box always lies in one of its cells.
    private static let rowsPerColumn = Int(180 / cellDegrees) + 1
    private static func column(_ lon: Double) -> Int { Int(((lon + 180) / cellDegrees).rounded(.down)) }
    private static func row(_ lat: Double) -> Int { Int(((lat + 90) / cellDegrees).rounded(.down)) }
    private static func cell(_ p: Point) -> Int { column(p.lon) * rowsPerColumn + row(p.lat) }

    private mutating func point(_ row: Row) -> Point {
        let kind = OrganisationKind(rawValue: row[3])
        if !kinds.contains(kind) { kinds.append(kind) }
        let code: String = row[4]
        if regionNumbers[code] == nil {
            regionNumbers[code] = UInt16(regions.count)
            regions.append(code)
            byRegion.append([])
        }
        return Point(id: row[0], lon: row[1], lat: row[2], distance: row[5] ?? .nan,
                     kind: UInt8(kinds.firstIndex(of: kind)!), region: regionNumbers[code]!)
    }

    private mutating func insert(_ p: Point) {
        Self.insert(p, into: &cells[Self.cell(p), default: []])
        Self.insert(p, into: &byRegion[Int(p.region)])
    }

    /// Finds the organisation through its region's list (one binary search in each) and takes it
    /// out of both lists.
    private mutating func remove(id: Int64) {
        for r in byRegion.indices {
            let i = Self.position(of: id, in: byRegion[r])
            guard i < byRegion[r].count, byRegion[r][i].id == id else { continue }
            let p = byRegion[r].remove(at: i)
            let key = Self.cell(p)
            guard var cell = cells.removeValue(forKey: key) else { return }
            cell.remove(at: Self.position(of: id, in: cell))
            if !cell.isEmpty { cells[key] = cell }
            return
        }
    }

    private static func insert(_ p: Point, into list: inout [Point]) {
        // Loading appends in id order; only edits insert inside.
        if let last = list.last, last.id > p.id { list.insert(p, at: position(of: p.id, in: list)) } else { list.append(p) }
    }

    /// The first index whose id is not below `id`.
    private static func position(of id: Int64, in list: [Point]) -> Int {
        var low = 0, high = list.count
        while low < high {
            let mid = (low + high) / 2
            if list[mid].id < id { low = mid + 1 } else { high = mid }
        }
        return low
    }
}
