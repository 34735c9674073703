import CivicMapCore
import GRDB

/// Every SQL text that reads organisations, in one place. Lists travel as one JSON argument
/// (`IN (SELECT value FROM json_each(?))`), so each statement has a fixed shape and SQLite's
/// statement cache serves it.
enum OrganisationSQL {
    /// The columns `organisation(from:)` decodes, in its order (22 of them).
    static let columns = """
        o.id, o.kind, o.name, o.region_code, r.iso, r.name_ru, o.settlement, o.address, o.inn, o.ogrn,
        o.categories, o.founded_year, o.website, o.email, o.phone, o.description, o.source, o.lat, o.lon,
        o.distance_to_centre_m, o.created_at, o.updated_at
        """
    static let columnCount = 22
    static let select = "SELECT \(columns) FROM organizations o JOIN regions r ON r.code = o.region_code"
    static let count = "SELECT count(*) FROM organizations"
    /// Longitude spans per degree and latitude bounds of the organisations of some kinds.
    static let extentSpans = """
        SELECT min(lon), max(lon), min(lat), max(lat) FROM organizations WHERE kind IN (SELECT value FROM json_each(?))
        GROUP BY CAST(lon + 180 AS INTEGER)
        """

    struct Fragment {
        var sql: String
        var arguments: StatementArguments
    }

    /// The WHERE condition of a query (over `organizations o`). `spatialIndex: false` tests
    /// boxes on the coordinates alone: for aggregates over the covering overview index, which
    /// holds lon and lat (a 30° × 15° overview: 86 ms, not 554 ms through the R*Tree).
    static func filter(_ q: FeatureQuery, allKinds: [OrganisationKind], spatialIndex: Bool = true) -> Fragment {
        var conditions: [String] = []
        var arguments: StatementArguments = []
        func add(_ sql: String, _ values: [any DatabaseValueConvertible]) {
            conditions.append(sql)
            arguments += StatementArguments(values)
        }
        if Set(q.kinds) != Set(allKinds) {
            add("o.kind IN (SELECT value FROM json_each(?))", [jsonArray(q.kinds.map(\.rawValue))])
        }
        if !q.regionCodes.isEmpty {
            add("o.region_code IN (SELECT value FROM json_each(?))", [jsonArray(q.regionCodes)])
        }
        if !q.categories.isEmpty {
            add("o.id IN (SELECT organization_id FROM organization_categories WHERE category IN (SELECT value FROM json_each(?)))",
                [jsonArray(q.categories)])
        }
        if let id = q.excludedID { add("o.id != ?", [id]) }
        for word in q.text.map(SearchText.words) ?? [] { add("instr(o.search_text, ?) > 0", [word]) }
        if let km = q.minDistanceKm { add("o.distance_to_centre_m >= ?", [km * 1000]) }
        if let km = q.maxDistanceKm { add("o.distance_to_centre_m <= ?", [km * 1000]) }
        if let box = q.bbox {
            let inBox = spatialIndex ? within(box) : coordinates(in: box)
            conditions.append(inBox.sql)
            arguments += inBox.arguments
        }
        if let point = q.near, let km = q.radiusKm {
            let candidates = within(Geodesic.wgs84.boundingBox(around: point, metres: km * 1000))
            conditions.append(candidates.sql)
            arguments += candidates.arguments
            add("geodesic_distance_m(o.lat, o.lon, ?, ?) <= ?", [point.latitude, point.longitude, km * 1000])
        }
        return Fragment(sql: conditions.isEmpty ? "1" : conditions.joined(separator: " AND "), arguments: arguments)
    }

    /// Organisations `o` inside a box, through the R*Tree. It holds float32 boxes rounded
    /// outward, so exact BETWEENs follow it.
    static func within(_ box: BoundingBox) -> Fragment {
        let exact = coordinates(in: box)
        let ranges = box.longitudeRanges
        let spatial = ranges.map { _ in "(xmin <= ? AND xmax >= ?)" }.joined(separator: " OR ")
        var values: [any DatabaseValueConvertible] = []
        for r in ranges { values += [r.upperBound, r.lowerBound] }
        values += [box.north, box.south]
        return Fragment(sql: """
            o.id IN (SELECT pkid FROM idx_organizations_geom WHERE (\(spatial)) AND ymin <= ? AND ymax >= ?) AND \(exact.sql)
            """, arguments: StatementArguments(values) + exact.arguments)
    }

    /// Organisations `o` whose coordinates lie in a box (either side of ±180°).
    static func coordinates(in box: BoundingBox) -> Fragment {
        let ranges = box.longitudeRanges
        var values: [any DatabaseValueConvertible] = []
        for r in ranges { values += [r.lowerBound, r.upperBound] }
        values += [box.south, box.north]
        let exact = ranges.map { _ in "o.lon BETWEEN ? AND ?" }.joined(separator: " OR ")
        return Fragment(sql: "(\(exact)) AND o.lat BETWEEN ? AND ?", arguments: StatementArguments(values))
    }

    /// One page of full rows in the query's order.
    static func page(_ q: FeatureQuery, filter: Fragment) -> Fragment {
        let order = orderBy(q)
        var arguments = filter.arguments
        arguments += order.arguments
        arguments += [q.limit ?? -1, q.offset]
        return Fragment(sql: "\(select) WHERE \(filter.sql) ORDER BY \(order.sql) LIMIT ? OFFSET ?", arguments: arguments)
    }

    /// Some columns of `o`, in the query's order: ids for exports that stream in chunks, or the
    /// precomputed features of a page.
    static func inOrder(_ q: FeatureQuery, filter: Fragment, columns: String) -> Fragment {
        let order = orderBy(q)
        var arguments = filter.arguments
        arguments += order.arguments
        arguments += [q.limit ?? -1, q.offset]
        let join = q.sort.contains { $0.field == .regionISO } ? " JOIN regions r ON r.code = o.region_code" : ""
        return Fragment(
            sql: "SELECT \(columns) FROM organizations o\(join) WHERE \(filter.sql) ORDER BY \(order.sql) LIMIT ? OFFSET ?",
            arguments: arguments)
    }

    /// `sortby` first; with `near`, nearest first when `sortby` does not say (and nearer first
    /// among equals), unless it places `distance_km` itself (the one term with arguments).
    static func orderBy(_ q: FeatureQuery) -> Fragment {
        let fromPoint = "geodesic_distance_m(o.lat, o.lon, ?, ?)"
        let sortsByPoint = q.sort.contains { $0.field == .distanceKm }
        let arguments: StatementArguments = q.near.map { [$0.latitude, $0.longitude] } ?? []
        var terms = q.sort.map { key -> String in
            let column = switch key.field {
            case .id: "o.id"
            case .name: "o.name"
            case .kind: "o.kind"
            case .regionISO: "r.iso"
            case .foundedYear: "o.founded_year"
            case .distanceToCentreKm: "o.distance_to_centre_m"
            case .distanceKm: fromPoint
            }
            return column + (key.descending ? " DESC" : "")
        }
        if q.near != nil && !sortsByPoint { terms.append(fromPoint) }
        if !q.sort.contains(where: { $0.field == .id }) { terms.append("o.id") }
        return Fragment(sql: terms.joined(separator: ", "), arguments: arguments)
    }

    /// Counts per grid cell and kind; `lon + 180` and `lat + 90` are never negative, so the
    /// integer cast is a floor.
    static func overview(_ q: FeatureQuery, filter: Fragment, cellDegrees: Double) -> Fragment {
        var arguments: StatementArguments = [cellDegrees, cellDegrees]
        arguments += filter.arguments
        return Fragment(sql: """
            SELECT CAST((o.lon + 180) / ? AS INTEGER) AS gx, CAST((o.lat + 90) / ? AS INTEGER) AS gy, o.kind,
                   count(*), sum(o.lon), sum(o.lat)
            FROM organizations o WHERE \(filter.sql) GROUP BY gx, gy, o.kind
            """, arguments: arguments)
    }

    /// Every stored spelling of a category, by one index seek each (a dozen or so in practice),
    /// not a scan of the 400,000 pairs.
    static let distinctCategories = """
        WITH RECURSIVE spelling(c) AS (
            SELECT min(category) FROM organization_categories
            UNION ALL SELECT (SELECT min(category) FROM organization_categories WHERE category > c) FROM spelling WHERE c IS NOT NULL)
        SELECT c FROM spelling WHERE c IS NOT NULL
        """

    static let organisationsInCategories = """
        SELECT count(DISTINCT organization_id) FROM organization_categories WHERE category IN (SELECT value FROM json_each(?))
        """

    static let categories = """
        SELECT category, count(*) AS n FROM organization_categories GROUP BY category ORDER BY n DESC, category
        """

    /// Decodes rows straight from the statement (a cursor), without copying each row first.
    static func fetch(_ db: Database, sql: String, arguments: StatementArguments) throws -> [Organisation] {
        try Array(Row.fetchCursor(db, sql: sql, arguments: arguments).map(organisation(from:)))
    }

    static func organisation(from row: Row) -> Organisation {
        var o = Organisation(
            id: row[0], kind: OrganisationKind(rawValue: row[1]), name: row[2], regionCode: row[3],
            settlement: row[6], address: row[7], inn: row[8], ogrn: row[9],
            categories: JSONText.stringArray(row[10]), foundedYear: row[11], website: row[12], email: row[13],
            phone: row[14], description: row[15], source: row[16],
            location: Coordinate(trustedLatitude: row[17], longitude: row[18]))
        o.regionISO = row[4]
        o.regionName = row[5]
        o.distanceToCentreMetres = row[19]
        o.createdAt = row[20]
        o.updatedAt = row[21]
        return o
    }

    /// Loads the programmes of the internship sites among `organisations` with one query.
    static func attachProgrammes(_ db: Database, to organisations: inout [Organisation]) throws {
        let sites = organisations.indices.filter { organisations[$0].kind == .internshipSite }
        guard !sites.isEmpty else { return }
        let ids = sites.compactMap { organisations[$0].id }
        let rows = try Row.fetchAll(db, sql: """
            SELECT organization_id, id, title, topics, length_days, starts_on, ends_on, capacity, selection_status, description
            FROM programmes WHERE organization_id IN (SELECT value FROM json_each(?)) ORDER BY organization_id, position
            """, arguments: [jsonArray(ids.map(String.init), numbers: true)])
        var byOrganisation: [Int64: [Programme]] = [:]
        for row in rows {
            byOrganisation[row[0], default: []].append(programme(from: row, offset: 1))
        }
        for i in sites { organisations[i].programmes = byOrganisation[organisations[i].id ?? 0] ?? [] }
    }

    static func programme(from row: Row, offset k: Int) -> Programme {
        Programme(
            id: row[k], title: row[k + 1], topics: JSONText.stringArray(row[k + 2]), lengthDays: row[k + 3],
            startsOn: row[k + 4], endsOn: row[k + 5], capacity: row[k + 6],
            selectionStatus: SelectionStatus(rawValue: row[k + 7]) ?? .planned, description: row[k + 8])
    }

    static func jsonArray(_ items: [String], numbers: Bool = false) -> String {
        if numbers { return "[" + items.joined(separator: ",") + "]" }
        var w = JSONWriter()
        w.strings(items)
        return String(decoding: w.bytes, as: UTF8.self)
    }
}
