/// What a client asks of a collection of organisations: filters, order and page. Built only by
/// `FeatureQueryParser`, so every store backend receives values that were already validated.
public struct FeatureQuery: Sendable, Equatable {
    /// Kinds to include; the collection's kinds intersected with the `kind` parameter.
    public var kinds: [OrganisationKind]
    /// Two-digit region codes; empty means all regions.
    public var regionCodes: [String] = []
    /// Matches organisations having any of these categories.
    public var categories: [String] = []
    /// Case-insensitive text searched in name, settlement and address.
    public var text: String? = nil
    public var bbox: BoundingBox? = nil
    /// Remoteness: geodesic distance to the regional centre, inclusive bounds, in kilometres.
    public var minDistanceKm: Double? = nil
    public var maxDistanceKm: Double? = nil
    /// Orders by geodesic distance from this point first (the list beside the map, "near me").
    public var near: Coordinate? = nil
    /// Only organisations within this geodesic distance of `near` (matching, "within reach").
    public var radiusKm: Double? = nil
    /// Leaves one organisation out (the origin of a matching question).
    public var excludedID: Int64? = nil
    /// Order; `id` ascending is always appended last so pages are stable.
    public var sort: [SortKey] = []
    /// nil: no limit (exports).
    public var limit: Int? = 100
    public var offset: Int = 0

    public init(kinds: [OrganisationKind]) { self.kinds = kinds }
}

public struct SortKey: Sendable, Equatable {
    public enum Field: String, Sendable, CaseIterable {
        case id, name, kind
        case regionISO = "region_iso"
        case foundedYear = "founded_year"
        case distanceToCentreKm = "distance_to_center_km"
        /// From `near` (the features' `distance_km`): nearest first is its default order.
        case distanceKm = "distance_km"
    }
    public var field: Field
    public var descending: Bool
    public init(_ field: Field, descending: Bool = false) {
        self.field = field
        self.descending = descending
    }
}

/// Parses OGC API – Features query parameters plus CivicMap's filters. Unknown or repeated
/// parameters and bad values throw `invalidParameter` naming the parameter and the reason.
public struct FeatureQueryParser: Sendable {
    /// Names one endpoint uses for what another names otherwise (the remoteness threshold is
    /// `threshold_km` in matching and reports, `min_distance_km` in lists and exports, `km` on
    /// the map), and names users guess: an unknown one is refused with the name that works here.
    static let synonyms: [String: [String]] = [
        "threshold_km": ["min_distance_km"], "km": ["min_distance_km", "threshold_km"], "min_distance_km": ["threshold_km"],
        "region": ["region_iso"], "region_code": ["region_iso"], "category": ["categories"], "text": ["q"], "search": ["q"],
    ]

    public static let filterParameters = ["kind", "region_iso", "categories", "q", "min_distance_km", "max_distance_km", "radius_km"]
    public static let standardParameters = ["bbox", "bbox-crs", "limit", "offset", "datetime", "sortby", "near"]
    public static let crs84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"

    public var defaultLimit: Int
    public var maximumLimit: Int
    public let kinds: [OrganisationKind]
    public let regions: RegionDirectory

    public init(kinds: [OrganisationKind], regions: RegionDirectory, defaultLimit: Int = 100, maximumLimit: Int = 10_000) {
        self.kinds = kinds
        self.regions = regions
        self.defaultLimit = defaultLimit
        self.maximumLimit = maximumLimit
    }

    /// - Parameters:
    ///   - collectionKinds: the kinds the requested collection holds.
    ///   - alsoAllowed: parameters the caller handles itself (for example `f`).
    ///   - paged: false for exports: no default limit, and no maximum.
    public func parse(
        _ parameters: [(name: String, value: String)], collectionKinds: [OrganisationKind],
        alsoAllowed: Set<String> = [], paged: Bool = true
    ) throws(CivicMapError) -> FeatureQuery {
        let values = try Self.uniqueValues(
            parameters, allowed: Set(Self.filterParameters + Self.standardParameters).union(alsoAllowed))
        var query = FeatureQuery(kinds: collectionKinds)
        query.limit = paged ? defaultLimit : nil

        if let v = values["kind"] { query.kinds = try Self.kinds(v, known: kinds, within: collectionKinds) }
        if let v = values["region_iso"] {
            query.regionCodes = try Self.list(v, name: "region_iso").map { key throws(CivicMapError) in
                guard let region = regions.region(key) else {
                    throw .invalidParameter(name: "region_iso", reason: "unknown region '\(key)'; use an ISO 3166-2 code such as RU-PER or a two-digit code such as 59")
                }
                return region.code
            }
        }
        if let v = values["categories"] { query.categories = try Self.list(v, name: "categories") }
        if let v = values["q"] {
            let text = v.trimmedText
            guard !text.isEmpty else { throw .invalidParameter(name: "q", reason: "must not be empty") }
            guard !text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
                throw .invalidParameter(name: "q", reason: "must not contain control characters")
            }
            guard text.count <= 200 else { throw .invalidParameter(name: "q", reason: "must be at most 200 characters") }
            guard !SearchText.words(text).isEmpty else { throw .invalidParameter(name: "q", reason: "has no word to look for, only quotes and commas") }
            query.text = text
        }
        query.minDistanceKm = try values["min_distance_km"].map { v throws(CivicMapError) in try Self.distance(v, name: "min_distance_km") }
        query.maxDistanceKm = try values["max_distance_km"].map { v throws(CivicMapError) in try Self.distance(v, name: "max_distance_km") }
        if let lo = query.minDistanceKm, let hi = query.maxDistanceKm, lo > hi {
            throw .invalidParameter(name: "max_distance_km", reason: "\(hi) is less than min_distance_km \(lo)")
        }
        if let v = values["bbox-crs"], v != Self.crs84 {
            throw .invalidParameter(name: "bbox-crs", reason: "only \(Self.crs84) is supported")
        }
        if let v = values["bbox"] { query.bbox = try BoundingBox.parse(v) }
        if let v = values["datetime"] { try Self.validateDatetime(v) }
        if let v = values["sortby"] { query.sort = try Self.sortKeys(v) }
        if let v = values["near"] { query.near = try Self.point(v, name: "near") }
        if query.near == nil, query.sort.contains(where: { $0.field == .distanceKm }) {
            throw .invalidParameter(name: "sortby", reason: "distance_km is measured from near=lon,lat: give the point")
        }
        if let v = values["radius_km"] {
            guard query.near != nil else { throw .invalidParameter(name: "radius_km", reason: "needs near=lon,lat, the point to measure from") }
            query.radiusKm = try Self.distance(v, name: "radius_km")
        }
        if let v = values["limit"] {
            let limit = try Self.limit(v)
            query.limit = paged ? min(limit, maximumLimit) : limit
        }
        if let v = values["offset"] { query.offset = try Self.integer(v, name: "offset", minimum: 0) }
        return query
    }

    /// Rejects unknown and repeated parameters; returns the rest by name.
    public static func uniqueValues(
        _ parameters: [(name: String, value: String)], allowed: Set<String>
    ) throws(CivicMapError) -> [String: String] {
        var values: [String: String] = [:]
        for (name, value) in parameters {
            guard allowed.contains(name) else {
                let instead = synonyms[name]?.first(where: allowed.contains).map { "; for that, use \($0) here" } ?? ""
                throw .invalidParameter(name: name, reason: "unknown parameter\(instead); this endpoint accepts: \(allowed.sorted().joined(separator: ", "))")
            }
            guard values[name] == nil else { throw .invalidParameter(name: name, reason: "given more than once") }
            values[name] = value
        }
        return values
    }

    /// A `kind` list: every name must be known; the result keeps `within`'s order.
    public static func kinds(_ value: String, known: [OrganisationKind], within: [OrganisationKind]) throws(CivicMapError) -> [OrganisationKind] {
        let asked = try list(value, name: "kind").map(OrganisationKind.init(rawValue:))
        for kind in asked where !known.contains(kind) {
            throw .invalidParameter(name: "kind", reason: "unknown kind '\(kind.rawValue)'; known: \(known.map(\.rawValue).joined(separator: ", "))")
        }
        return within.filter(asked.contains)
    }

    /// A page size of at least 1. One too large for an integer is still only "more than the
    /// maximum": it becomes Int.max for the caller to clamp.
    public static func limit(_ value: String) throws(CivicMapError) -> Int {
        if value.count > 18 && value.allSatisfy({ $0.isASCII && $0.isNumber }) { return Int.max }
        return try integer(value, name: "limit", minimum: 1)
    }

    public static func list(_ value: String, name: String) throws(CivicMapError) -> [String] {
        let items = value.split(separator: ",").map { String($0.trimmingSpaces) }.filter { !$0.isEmpty }
        guard !items.isEmpty else { throw .invalidParameter(name: name, reason: "must name at least one value") }
        guard items.count <= 100 else { throw .invalidParameter(name: name, reason: "at most 100 values") }
        return items
    }

    public static func integer(_ value: String, name: String, minimum: Int) throws(CivicMapError) -> Int {
        guard let n = Int(value) else {
            let digits = value.first == "-" || value.first == "+" ? value.dropFirst() : Substring(value)
            let outOfRange = !digits.isEmpty && digits.allSatisfy { $0.isASCII && $0.isNumber }
            throw .invalidParameter(name: name, reason: outOfRange ? "'\(value)' is out of range" : "'\(value)' is not an integer")
        }
        guard n >= minimum else { throw .invalidParameter(name: name, reason: "must be at least \(minimum)") }
        return n
    }

    public static func distance(_ value: String, name: String) throws(CivicMapError) -> Double {
        guard let km = Double.decimal(value) else { throw .invalidParameter(name: name, reason: "'\(value)' is not a number of kilometres") }
        guard km >= 0, km <= 20_100 else { throw .invalidParameter(name: name, reason: "must be between 0 and 20100 km") }
        return km
    }

    /// `lon,lat` in CRS84 order, as bbox.
    public static func point(_ value: String, name: String) throws(CivicMapError) -> Coordinate {
        let parts = value.split(separator: ",", omittingEmptySubsequences: false).map { Double.decimal($0.trimmingSpaces) }
        guard parts.count == 2, let lon = parts[0], let lat = parts[1] else {
            throw .invalidParameter(name: name, reason: "expected lon,lat (two numbers)")
        }
        do { return try Coordinate(latitude: lat, longitude: lon) } catch { throw .invalidParameter(name: name, reason: error.reason) }
    }

    static func sortKeys(_ value: String) throws(CivicMapError) -> [SortKey] {
        let keys = try list(value, name: "sortby").map { item throws(CivicMapError) in
            var name = Substring(item)
            var descending = false
            if name.first == "-" { descending = true; name.removeFirst() } else if name.first == "+" { name.removeFirst() }
            guard let field = SortKey.Field(rawValue: String(name)) else {
                throw .invalidParameter(name: "sortby", reason: "cannot sort by '\(name)'; sortable: \(SortKey.Field.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return SortKey(field, descending: descending)
        }
        // A second key on one field could never order anything: say so rather than ignore it.
        var seen: Set<SortKey.Field> = []
        if let repeated = keys.first(where: { !seen.insert($0.field).inserted }) {
            throw .invalidParameter(name: "sortby", reason: "sorts by '\(repeated.field.rawValue)' twice")
        }
        return keys
    }

    /// RFC 3339 instants or intervals (`..` for an open end), as OGC API – Features defines
    /// `datetime`. Organisations carry no time of validity, so a valid value selects them all.
    static func validateDatetime(_ value: String) throws(CivicMapError) {
        let ends = value.split(separator: "/", omittingEmptySubsequences: false)
        guard (1...2).contains(ends.count) else {
            throw .invalidParameter(name: "datetime", reason: "expected an instant or an interval start/end")
        }
        for end in ends where !(ends.count == 2 && (end == ".." || end.isEmpty)) {
            guard isRFC3339(end) else {
                throw .invalidParameter(name: "datetime", reason: "'\(end)' is not an RFC 3339 date or date-time")
            }
        }
        if ends.count == 2 && (ends[0] == ".." || ends[0].isEmpty) && (ends[1] == ".." || ends[1].isEmpty) {
            throw .invalidParameter(name: "datetime", reason: "an interval needs at least one closed end")
        }
        // Dates, and times in UTC, compare as text; an offset could move a time across midnight.
        if ends.count == 2, ends.allSatisfy({ $0.count == 10 || $0.hasSuffix("Z") || $0.hasSuffix("z") }),
            ends[0].prefix(10) > ends[1].prefix(10) {
            throw .invalidParameter(name: "datetime", reason: "the interval ends (\(ends[1])) before it starts (\(ends[0]))")
        }
    }

    static func isRFC3339(_ s: Substring) -> Bool {
        let u = Array(s.utf8)
        func digits(_ r: Range<Int>) -> Bool { r.upperBound <= u.count && u[r].allSatisfy { (48...57).contains($0) } }
        guard u.count >= 10, digits(0..<4), u[4] == 0x2D, digits(5..<7), u[7] == 0x2D, digits(8..<10) else { return false }
        func number(_ r: Range<Int>) -> Int { u[r].reduce(0) { $0 * 10 + Int($1 - 48) } }
        let year = number(0..<4), month = number(5..<7), day = number(8..<10)
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
        let days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        guard (1...12).contains(month), (1...days[month - 1]).contains(day) else { return false }
        if u.count == 10 { return true }
        guard u.count >= 20, u[10] == 0x54 || u[10] == 0x74, digits(11..<13), u[13] == 0x3A, digits(14..<16), u[16] == 0x3A, digits(17..<19),
            number(11..<13) < 24, number(14..<16) < 60, number(17..<19) < 61
        else { return false }
        var i = 19
        if i < u.count, u[i] == 0x2E {
            i += 1
            let start = i
            while i < u.count, (48...57).contains(u[i]) { i += 1 }
            guard i > start else { return false }
        }
        guard i < u.count else { return false }
        if u[i] == 0x5A || u[i] == 0x7A { return i == u.count - 1 }
        return u.count - i == 6 && (u[i] == 0x2B || u[i] == 0x2D) && digits(i + 1..<i + 3) && u[i + 3] == 0x3A && digits(i + 4..<i + 6)
    }
}

import Foundation
