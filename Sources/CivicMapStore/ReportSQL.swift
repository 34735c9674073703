import CivicMapCore
import GRDB

/// The SQL of the coordinator's questions: region statistics, coverage of populated places,
/// and programme listings. Distances come from the stored geodesic `distance_to_centre_m`.
enum ReportSQL {
    typealias Fragment = OrganisationSQL.Fragment

    /// Organisations of a region restricted to some kinds (over `organizations o`).
    static func inRegion(_ q: RegionReportQuery) -> Fragment {
        Fragment(sql: "o.region_code = ? AND o.kind IN (SELECT value FROM json_each(?))",
                 arguments: [q.regionCode, OrganisationSQL.jsonArray(q.kinds.map(\.rawValue))])
    }

    static func countsByKind(_ q: RegionReportQuery) -> Fragment {
        let scope = inRegion(q)
        var arguments: StatementArguments = [q.thresholdKm * 1000]
        arguments += scope.arguments
        return Fragment(sql: """
            SELECT o.kind, count(*), count(CASE WHEN o.distance_to_centre_m >= ? THEN 1 END),
                   max(o.distance_to_centre_m), avg(o.distance_to_centre_m)
            FROM organizations o WHERE \(scope.sql) GROUP BY o.kind
            """, arguments: arguments)
    }

    /// The distance at a rank (0-based) in ascending order: quantiles without reading them all.
    static func distanceAtRank(_ q: RegionReportQuery, rank: Int) -> Fragment {
        let scope = inRegion(q)
        var arguments = scope.arguments
        arguments += [rank]
        return Fragment(sql: """
            SELECT o.distance_to_centre_m FROM organizations o WHERE \(scope.sql)
            ORDER BY o.distance_to_centre_m LIMIT 1 OFFSET ?
            """, arguments: arguments)
    }

    static func histogram(_ q: RegionReportQuery, binMetres: Double) -> Fragment {
        let scope = inRegion(q)
        var arguments: StatementArguments = [binMetres]
        arguments += scope.arguments
        return Fragment(sql: """
            SELECT CAST(o.distance_to_centre_m / ? AS INTEGER) AS bin, count(*)
            FROM organizations o WHERE \(scope.sql) GROUP BY bin
            """, arguments: arguments)
    }

    /// Organisations at a distance in [from, to).
    static func countBetween(_ q: RegionReportQuery, fromMetres: Double, toMetres: Double) -> Fragment {
        let scope = inRegion(q)
        var arguments = scope.arguments
        arguments += [fromMetres, toMetres]
        return Fragment(sql: """
            SELECT count(*) FROM organizations o WHERE \(scope.sql) AND o.distance_to_centre_m >= ? AND o.distance_to_centre_m < ?
            """, arguments: arguments)
    }

    static func mostRemote(_ q: RegionReportQuery) -> Fragment {
        let scope = inRegion(q)
        var arguments = scope.arguments
        arguments += [q.top]
        return Fragment(sql: """
            SELECT o.id, o.name, o.kind, o.settlement, o.distance_to_centre_m, o.lat, o.lon
            FROM organizations o WHERE \(scope.sql) ORDER BY o.distance_to_centre_m DESC, o.id LIMIT ?
            """, arguments: arguments)
    }

    static let settlementsOfRegion = "SELECT name, population, lat, lon FROM settlements WHERE region_code = ? ORDER BY population DESC, name"

    /// Is an organisation of these kinds (in any region) within `metres` of the point? Driven
    /// from the R*Tree, so it stops at the first hit instead of collecting the whole box.
    static func anyWithin(_ point: Coordinate, metres: Double, kinds: [OrganisationKind]) -> Fragment {
        let box = candidates(around: point, metres: metres, kinds: kinds)
        var arguments = box.arguments
        arguments += [point.latitude, point.longitude, metres]
        return Fragment(sql: "SELECT 1 FROM \(box.sql) AND geodesic_distance_m(o.lat, o.lon, ?, ?) <= ? LIMIT 1", arguments: arguments)
    }

    /// The distance to the nearest organisation of these kinds inside the box of `metres`.
    static func nearestWithin(_ point: Coordinate, metres: Double, kinds: [OrganisationKind]) -> Fragment {
        let box = candidates(around: point, metres: metres, kinds: kinds)
        var arguments: StatementArguments = [point.latitude, point.longitude]
        arguments += box.arguments
        return Fragment(sql: "SELECT min(geodesic_distance_m(o.lat, o.lon, ?, ?)) FROM \(box.sql)", arguments: arguments)
    }

    /// `FROM` the R*Tree entries in the box around the point, joined to their organisations.
    /// CROSS JOIN keeps SQLite from starting at the kind index and probing the R*Tree per row.
    private static func candidates(around point: Coordinate, metres: Double, kinds: [OrganisationKind]) -> Fragment {
        let box = Geodesic.wgs84.boundingBox(around: point, metres: metres)
        let ranges = box.longitudeRanges
        var arguments: StatementArguments = []
        for r in ranges { arguments += [r.upperBound, r.lowerBound] }
        arguments += [box.north, box.south, OrganisationSQL.jsonArray(kinds.map(\.rawValue))]
        return Fragment(sql: """
            idx_organizations_geom g CROSS JOIN organizations o ON o.id = g.pkid
            WHERE (\(ranges.map { _ in "(g.xmin <= ? AND g.xmax >= ?)" }.joined(separator: " OR "))) AND g.ymin <= ? AND g.ymax >= ?
            AND o.kind IN (SELECT value FROM json_each(?))
            """, arguments: arguments)
    }

    static func allSettlements(_ db: Database) throws -> [Settlement] {
        try Row.fetchAll(db, sql: "SELECT id, name, region_code, population, lat, lon FROM settlements").map {
            Settlement(id: $0[0], name: $0[1], regionCode: $0[2], population: $0[3], location: Coordinate(trustedLatitude: $0[4], longitude: $0[5]))
        }
    }

    static func replaceSettlements(_ db: Database, _ settlements: [Settlement]) throws {
        try db.execute(sql: "DELETE FROM settlements")
        let insert = try db.makeStatement(sql: "INSERT INTO settlements (id, name, region_code, population, lat, lon) VALUES (?, ?, ?, ?, ?, ?)")
        for s in settlements {
            try insert.execute(arguments: [s.id, s.name, s.regionCode, s.population, s.location.latitude, s.location.longitude])
        }
    }

    // MARK: programmes

    /// Programme listings (over `programmes p` joined to their site `o`).
    static func programmeFilter(_ q: ProgrammeQuery) -> Fragment {
        var conditions = ["p.selection_status IN (SELECT value FROM json_each(?))"]
        var arguments: StatementArguments = [OrganisationSQL.jsonArray(q.statuses.map(\.rawValue))]
        if !q.regionCodes.isEmpty {
            conditions.append("o.region_code IN (SELECT value FROM json_each(?))")
            arguments += [OrganisationSQL.jsonArray(q.regionCodes)]
        }
        if let from = q.from {
            conditions.append("(coalesce(p.ends_on, p.starts_on) IS NULL OR coalesce(p.ends_on, p.starts_on) >= ?)")
            arguments += [from]
        }
        if !q.topics.isEmpty {
            conditions.append("EXISTS (SELECT 1 FROM json_each(p.topics) t WHERE t.value IN (SELECT value FROM json_each(?)))")
            arguments += [OrganisationSQL.jsonArray(q.topics)]
        }
        return Fragment(sql: conditions.joined(separator: " AND "), arguments: arguments)
    }

    static func countProgrammes(_ filter: Fragment) -> Fragment {
        Fragment(sql: "SELECT count(*) FROM programmes p JOIN organizations o ON o.id = p.organization_id WHERE \(filter.sql)",
                 arguments: filter.arguments)
    }

    /// The site's columns first (as `OrganisationSQL.organisation(from:)` reads them), then the
    /// programme's. Undated programmes come last.
    static func programmePage(_ q: ProgrammeQuery, filter: Fragment) -> Fragment {
        var arguments = filter.arguments
        arguments += [q.limit, q.offset]
        return Fragment(sql: """
            SELECT \(OrganisationSQL.columns), p.id, p.title, p.topics, p.length_days, p.starts_on, p.ends_on, p.capacity,
                   p.selection_status, p.description
            FROM programmes p JOIN organizations o ON o.id = p.organization_id JOIN regions r ON r.code = o.region_code
            WHERE \(filter.sql)
            ORDER BY p.starts_on IS NULL, p.starts_on, p.id LIMIT ? OFFSET ?
            """, arguments: arguments)
    }
}
