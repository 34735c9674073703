/// Matching remote organisations with internship sites, as organisation queries measured from
/// the origin's point (geodesic): the HTTP endpoints and the CLI share these rules.
public struct Matching: Sendable {
    public let source: any FeatureSource
    public static let maximumK = 100

    public init(source: any FeatureSource) { self.source = source }

    /// The organisation a parameter names, or a 400/404 naming that parameter.
    public func organisation(_ value: String?, parameter: String) async throws -> Organisation {
        guard let value else { throw CivicMapError.invalidParameter(name: parameter, reason: "is required: the id of an organisation") }
        guard let id = Int64(value), id > 0 else { throw CivicMapError.invalidParameter(name: parameter, reason: "'\(value)' is not an organisation id") }
        guard let o = try await source.organisation(id: id) else { throw CivicMapError.notFound("organisation \(id)") }
        return o
    }

    /// The k internship sites nearest to the origin (optionally in its region), with their
    /// programmes, and how many sites there are to choose from.
    public func nearestSites(to origin: Organisation, k: Int, sameRegion: Bool) async throws -> (sites: [Organisation], matched: Int) {
        var query = FeatureQuery(kinds: [.internshipSite])
        query.near = origin.location
        query.excludedID = origin.id  // a site is not its own match
        if sameRegion { query.regionCodes = [origin.regionCode] }
        query.limit = k
        let page = try await source.organisations(matching: query)
        return (page.organisations, page.numberMatched)
    }

    /// Parameters of the nearest-sites question: `k` (1…100, default 5), `same_region`.
    public static func nearestSitesOptions(_ values: [String: String]) throws(CivicMapError) -> (k: Int, sameRegion: Bool) {
        let k = try values["k"].map { v throws(CivicMapError) in try FeatureQueryParser.integer(v, name: "k", minimum: 1) } ?? 5
        guard k <= maximumK else { throw .invalidParameter(name: "k", reason: "must be at most \(maximumK)") }
        return (k, try flag(values["same_region"], name: "same_region") ?? false)
    }

    /// Remote organisations (at or beyond the threshold from their own regional centre)
    /// within `radius_km` (default 150) of the site, nearest first; by default only the
    /// site's region and every kind but internship sites. Paging is left to the caller.
    public func remoteOrganisationsQuery(site: Organisation, _ values: [String: String], defaultThresholdKm: Double) async throws -> FeatureQuery {
        guard site.kind == .internshipSite else {
            throw CivicMapError.invalidParameter(name: "site", reason: "organisation \(site.id ?? 0) is of kind \(site.kind.rawValue), not an internship site")
        }
        let allKinds = try await source.kinds().map(\.kind)
        var query = FeatureQuery(kinds: allKinds.filter { $0 != .internshipSite })
        if let v = values["kind"] { query.kinds = try FeatureQueryParser.kinds(v, known: allKinds, within: allKinds) }
        query.near = site.location
        query.excludedID = site.id
        query.radiusKm = try FeatureQueryParser.distance(values["radius_km"] ?? "150", name: "radius_km")
        query.minDistanceKm = try values["threshold_km"].map { v throws(CivicMapError) in try FeatureQueryParser.distance(v, name: "threshold_km") }
            ?? defaultThresholdKm
        if try Self.flag(values["same_region"], name: "same_region") ?? true { query.regionCodes = [site.regionCode] }
        query.offset = try values["offset"].map { v throws(CivicMapError) in try FeatureQueryParser.integer(v, name: "offset", minimum: 0) } ?? 0
        query.limit = try values["limit"].map { v throws(CivicMapError) in try FeatureQueryParser.limit(v) }
        return query
    }

    /// The defaults a remote-organisations query took, as parameters: its links state them, so
    /// a saved link or the next page keeps meaning the same if the server's defaults change.
    public static func defaultsTaken(by query: FeatureQuery, from values: [String: String]) -> [(name: String, value: String)] {
        func km(_ v: Double) -> String { v == v.rounded() && abs(v) < 1e15 ? String(Int(v)) : String(v) }
        let taken: [(name: String, value: String)] = [
            ("radius_km", query.radiusKm.map(km) ?? ""), ("threshold_km", query.minDistanceKm.map(km) ?? ""),
            ("same_region", query.regionCodes.isEmpty ? "false" : "true"),
        ]
        return taken.filter { values[$0.name] == nil && !$0.value.isEmpty }
    }

    public static let nearestSitesParameters = ["organization", "k", "same_region"]
    public static let remoteOrganisationsParameters = ["site", "radius_km", "threshold_km", "same_region", "kind", "limit", "offset"]

    public static func flag(_ value: String?, name: String) throws(CivicMapError) -> Bool? {
        switch value {
        case nil: nil
        case "true", "1", "yes": true
        case "false", "0", "no": false
        case let v?: throw .invalidParameter(name: name, reason: "'\(v)' is not true or false")
        }
    }
}

/// A matching answer as GeoJSON: the matches as a FeatureCollection with the `origin` Feature
/// they were measured from. The API and the CLI write the same document.
public enum MatchingJSON {
    public static func write(
        origin: Organisation, matches: [Organisation], matched: Int, timeStamp: String,
        links: (inout JSONWriter) -> Void = { _ in }, to w: inout JSONWriter
    ) {
        w.beginObject()
        w.key("type"); w.string("FeatureCollection")
        w.key("origin"); GeoJSON.writeFeature(origin, to: &w)
        w.key("numberMatched"); w.int(matched)
        w.key("numberReturned"); w.int(matches.count)
        w.key("timeStamp"); w.string(timeStamp)
        links(&w)
        w.key("features"); w.beginArray()
        for o in matches { GeoJSON.writeFeature(o, to: &w) }
        w.endArray()
        w.endObject()
    }
}
