import CivicMapCore
import GRDB

extension CivicMapDatabase {
    /// Replaces the populated places (the bundled GeoNames extract) in one transaction.
    public func loadSettlements(_ settlements: [Settlement]) throws {
        try writer.write { db in try ReportSQL.replaceSettlements(db, settlements) }
    }

    /// Every populated place, for the import's check of settlements against points.
    public func settlements() throws -> [Settlement] {
        try writer.read { db in try ReportSQL.allSettlements(db) }
    }

    /// False for databases created before populated places were bundled.
    public func hasSettlements() throws -> Bool {
        try writer.read { db in try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM settlements)") ?? false }
    }

    public func programmes(matching query: ProgrammeQuery) async throws -> ProgrammePage {
        try await reads.read { db in
            let filter = ReportSQL.programmeFilter(query)
            let count = ReportSQL.countProgrammes(filter)
            let matched = try Int.fetchOne(db, sql: count.sql, arguments: count.arguments) ?? 0
            let page = ReportSQL.programmePage(query, filter: filter)
            let listings = try Row.fetchAll(db, sql: page.sql, arguments: page.arguments).map { row in
                ProgrammeListing(
                    programme: OrganisationSQL.programme(from: row, offset: OrganisationSQL.columnCount),
                    site: OrganisationSQL.organisation(from: row))
            }
            return ProgrammePage(listings: listings, numberMatched: matched)
        }
    }

    public func regionReport(_ q: RegionReportQuery) async throws -> RegionReport {
        try await reads.read { db in
            guard let region = try self.cachedRegions(db).region(q.regionCode) else {
                throw CivicMapError.notFound("region '\(q.regionCode)'")
            }
            let kinds = try self.cachedKinds(db).filter { q.kinds.contains($0.kind) }
            var lines: [RegionReport.KindLine] = []
            var total = 0, maxMetres = 0.0, sumMetres = 0.0
            let counts = ReportSQL.countsByKind(q)
            let rows = try Row.fetchAll(db, sql: counts.sql, arguments: counts.arguments)
            for info in kinds {
                let row = rows.first { ($0[0] as String) == info.kind.rawValue }
                let n: Int = row?[1] ?? 0
                lines.append(RegionReport.KindLine(kind: info, organisations: n, remote: row?[2] ?? 0))
                total += n
                maxMetres = max(maxMetres, row?[3] ?? 0)
                sumMetres += (row?[4] ?? 0) * Double(n)
            }
            let distances = try Self.distances(db, q, total: total, maxMetres: maxMetres, sumMetres: sumMetres)
            let remote = ReportSQL.mostRemote(q)
            let mostRemote = try Row.fetchAll(db, sql: remote.sql, arguments: remote.arguments).map { row in
                RegionReport.RemoteOrganisation(
                    id: row[0], name: row[1], kind: OrganisationKind(rawValue: row[2]), settlement: row[3],
                    distanceKm: (row[4] as Double) / 1000, location: Coordinate(trustedLatitude: row[5], longitude: row[6]))
            }
            return RegionReport(
                region: region, query: q, byKind: lines, distances: distances, mostRemote: mostRemote,
                coverage: try Self.coverage(db, q))
        }
    }

    private static func distances(_ db: Database, _ q: RegionReportQuery, total: Int, maxMetres: Double, sumMetres: Double) throws -> RegionReport.Distances {
        guard total > 0 else { return RegionReport.Distances(binKm: 10, bins: [], medianKm: nil, p90Km: nil, maxKm: nil, meanKm: nil) }
        func kilometres(atRank rank: Int) throws -> Double? {
            let fragment = ReportSQL.distanceAtRank(q, rank: rank)
            return try Double.fetchOne(db, sql: fragment.sql, arguments: fragment.arguments).map { $0 / 1000 }
        }
        // Nearest-rank quantiles: the value at rank ⌈p·n⌉.
        func quantile(_ p: Double) throws -> Double? { try kilometres(atRank: max(0, Int((p * Double(total)).rounded(.up)) - 1)) }
        // The median as usually defined: the middle value, or the mean of the two middle ones.
        func median() throws -> Double? {
            guard total % 2 == 0 else { return try kilometres(atRank: total / 2) }
            guard let lower = try kilometres(atRank: total / 2 - 1), let upper = try kilometres(atRank: total / 2) else { return nil }
            return (lower + upper) / 2
        }
        let maxKm = maxMetres / 1000
        let binKm = RegionReport.binWidth(maxKm: maxKm, thresholdKm: q.thresholdKm)
        var counts = [Int](repeating: 0, count: Int(maxKm / binKm) + 1)
        let histogram = ReportSQL.histogram(q, binMetres: binKm * 1000)
        for row in try Row.fetchAll(db, sql: histogram.sql, arguments: histogram.arguments) {
            let bin: Int = row[0]
            counts[min(max(0, bin), counts.count - 1)] += row[1] as Int
        }
        var bins = counts.enumerated().map {
            RegionReport.Distances.Bin(fromKm: Double($0.offset) * binKm, toKm: Double($0.offset + 1) * binKm, count: $0.element)
        }
        // Split the bin the threshold falls inside, so every bar is all near or all remote.
        if let i = bins.firstIndex(where: { $0.fromKm < q.thresholdKm && q.thresholdKm < $0.toKm }) {
            let below = ReportSQL.countBetween(q, fromMetres: bins[i].fromKm * 1000, toMetres: q.thresholdKm * 1000)
            let near = try Int.fetchOne(db, sql: below.sql, arguments: below.arguments) ?? 0
            let whole = bins[i]
            bins[i] = .init(fromKm: whole.fromKm, toKm: q.thresholdKm, count: near)
            bins.insert(.init(fromKm: q.thresholdKm, toKm: whole.toKm, count: whole.count - near), at: i + 1)
        }
        return RegionReport.Distances(
            binKm: binKm, bins: bins, medianKm: try median(), p90Km: try quantile(0.9), maxKm: maxKm,
            meanKm: sumMetres / Double(total) / 1000)
    }

    /// Each populated place of the region is covered when an organisation of the kinds (in any
    /// region: borders do not stop people) lies within the radius. The R*Tree narrows each test
    /// to a box; uncovered places also get the distance to the nearest within four radii.
    private static func coverage(_ db: Database, _ q: RegionReportQuery) throws -> RegionReport.Coverage {
        var result = RegionReport.Coverage(settlements: 0, covered: 0, population: 0, uncoveredPopulation: 0, uncovered: [])
        let radius = q.coverageRadiusKm * 1000
        for row in try Row.fetchAll(db, sql: ReportSQL.settlementsOfRegion, arguments: [q.regionCode]) {
            let place = Coordinate(trustedLatitude: row[2], longitude: row[3])
            let population: Int = row[1]
            result.settlements += 1
            result.population += population
            let test = ReportSQL.anyWithin(place, metres: radius, kinds: q.kinds)
            if try Int.fetchOne(db, sql: test.sql, arguments: test.arguments) != nil {
                result.covered += 1
                continue
            }
            let nearest = ReportSQL.nearestWithin(place, metres: 4 * radius, kinds: q.kinds)
            let metres = try Double.fetchOne(db, sql: nearest.sql, arguments: nearest.arguments)
            result.uncoveredPopulation += population
            result.uncovered.append(RegionReport.UncoveredPlace(
                name: row[0], population: population, location: place,
                nearestKm: metres.flatMap { $0 <= 4 * radius ? $0 / 1000 : nil }))
        }
        return result
    }
}
