/// What a coordinator asks of a region: how many organisations, how many remote, how far,
/// and which populated places have none near.
public struct RegionReportQuery: Sendable, Equatable {
    public var regionCode: String
    public var kinds: [OrganisationKind]
    /// Remote from this geodesic distance to the regional centre on.
    public var thresholdKm: Double
    /// A place counts as covered when an organisation lies within this distance.
    public var coverageRadiusKm: Double
    /// How many of the most remote organisations to list.
    public var top: Int

    public init(regionCode: String, kinds: [OrganisationKind], thresholdKm: Double, coverageRadiusKm: Double = 25, top: Int = 10) {
        self.regionCode = regionCode
        self.kinds = kinds
        self.thresholdKm = thresholdKm
        self.coverageRadiusKm = coverageRadiusKm
        self.top = top
    }

    public static let parameters = ["threshold_km", "coverage_radius_km", "kind", "top"]

    /// Parses the report's parameters; the region comes from the path.
    public static func parse(
        _ values: [String: String], region: Region, kinds allKinds: [OrganisationKind], defaultThresholdKm: Double
    ) throws(CivicMapError) -> RegionReportQuery {
        var q = RegionReportQuery(regionCode: region.code, kinds: allKinds, thresholdKm: defaultThresholdKm)
        if let v = values["threshold_km"] { q.thresholdKm = try FeatureQueryParser.distance(v, name: "threshold_km") }
        if let v = values["coverage_radius_km"] {
            q.coverageRadiusKm = try FeatureQueryParser.distance(v, name: "coverage_radius_km")
            guard q.coverageRadiusKm > 0, q.coverageRadiusKm <= 500 else {
                throw .invalidParameter(name: "coverage_radius_km", reason: "must be more than 0 and at most 500 km")
            }
        }
        if let v = values["kind"] { q.kinds = try FeatureQueryParser.kinds(v, known: allKinds, within: allKinds) }
        if let v = values["top"] {
            q.top = try FeatureQueryParser.integer(v, name: "top", minimum: 0)
            guard q.top <= 1000 else { throw .invalidParameter(name: "top", reason: "must be at most 1000") }
        }
        return q
    }
}

public struct RegionReport: Sendable {
    public struct KindLine: Sendable {
        public var kind: KindInfo
        public var organisations: Int
        public var remote: Int
        public init(kind: KindInfo, organisations: Int, remote: Int) {
            self.kind = kind
            self.organisations = organisations
            self.remote = remote
        }
    }
    public struct Distances: Sendable {
        public struct Bin: Sendable, Equatable {
            public var fromKm: Double
            public var toKm: Double
            public var count: Int
            public init(fromKm: Double, toKm: Double, count: Int) {
                self.fromKm = fromKm
                self.toKm = toKm
                self.count = count
            }
        }
        /// Width of the histogram's bins.
        public var binKm: Double
        /// Bins from 0 km up to the farthest organisation. The threshold is always an edge: the
        /// bin it would fall inside is split there, so no bar mixes remote and near ones.
        public var bins: [Bin]
        public var medianKm: Double?
        public var p90Km: Double?
        public var maxKm: Double?
        public var meanKm: Double?
        public init(binKm: Double, bins: [Bin], medianKm: Double?, p90Km: Double?, maxKm: Double?, meanKm: Double?) {
            self.binKm = binKm
            self.bins = bins
            self.medianKm = medianKm
            self.p90Km = p90Km
            self.maxKm = maxKm
            self.meanKm = meanKm
        }
    }
    public struct RemoteOrganisation: Sendable {
        public var id: Int64
        public var name: String
        public var kind: OrganisationKind
        public var settlement: String?
        public var distanceKm: Double
        public var location: Coordinate
        public init(id: Int64, name: String, kind: OrganisationKind, settlement: String?, distanceKm: Double, location: Coordinate) {
            self.id = id
            self.name = name
            self.kind = kind
            self.settlement = settlement
            self.distanceKm = distanceKm
            self.location = location
        }
    }
    public struct UncoveredPlace: Sendable {
        public var name: String
        public var population: Int
        public var location: Coordinate
        /// Distance to the nearest organisation, when one lies within four times the radius.
        public var nearestKm: Double?
        public init(name: String, population: Int, location: Coordinate, nearestKm: Double?) {
            self.name = name
            self.population = population
            self.location = location
            self.nearestKm = nearestKm
        }
    }
    public struct Coverage: Sendable {
        public var settlements: Int
        public var covered: Int
        public var population: Int
        public var uncoveredPopulation: Int
        /// Most populous first.
        public var uncovered: [UncoveredPlace]
        public init(settlements: Int, covered: Int, population: Int, uncoveredPopulation: Int, uncovered: [UncoveredPlace]) {
            self.settlements = settlements
            self.covered = covered
            self.population = population
            self.uncoveredPopulation = uncoveredPopulation
            self.uncovered = uncovered
        }
    }

    public var region: Region
    public var query: RegionReportQuery
    public var byKind: [KindLine]
    public var distances: Distances
    public var mostRemote: [RemoteOrganisation]
    public var coverage: Coverage

    public var organisations: Int { byKind.reduce(0) { $0 + $1.organisations } }
    public var remote: Int { byKind.reduce(0) { $0 + $1.remote } }

    public init(region: Region, query: RegionReportQuery, byKind: [KindLine], distances: Distances, mostRemote: [RemoteOrganisation], coverage: Coverage) {
        self.region = region
        self.query = query
        self.byKind = byKind
        self.distances = distances
        self.mostRemote = mostRemote
        self.coverage = coverage
    }

    /// A bin width from 1-2-5 steps giving at most 20 bins, dividing the threshold when one
    /// does (otherwise the store splits the bin the threshold falls in).
    public static func binWidth(maxKm: Double, thresholdKm: Double) -> Double {
        let steps: [Double] = [1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000]
        let fitting = steps.filter { (maxKm / $0).rounded(.up) <= 20 }
        return fitting.first { thresholdKm <= 0 || (thresholdKm / $0).rounded() * $0 == thresholdKm } ?? fitting.first ?? 5000
    }
}

/// Programmes open to remote organisations, soonest first.
public struct ProgrammeQuery: Sendable, Equatable {
    /// Regions of the hosting sites; empty means all.
    public var regionCodes: [String] = []
    public var statuses: [SelectionStatus] = [.open, .planned]
    /// Programmes that end (or start, when undated at the end) on or after this ISO date;
    /// undated programmes are always listed.
    public var from: String?
    /// Any of these topics.
    public var topics: [String] = []
    public var near: Coordinate?
    public var limit = 100
    public var offset = 0

    public init() {}

    public static let parameters = ["region_iso", "status", "from", "topics", "near", "limit", "offset"]

    public static func parse(_ values: [String: String], regions: RegionDirectory, today: String, maximumLimit: Int) throws(CivicMapError) -> ProgrammeQuery {
        var q = ProgrammeQuery()
        q.from = today
        if let v = values["region_iso"] {
            q.regionCodes = try FeatureQueryParser.list(v, name: "region_iso").map { key throws(CivicMapError) in
                guard let r = regions.region(key) else { throw .invalidParameter(name: "region_iso", reason: "unknown region '\(key)'") }
                return r.code
            }
        }
        if let v = values["status"] {
            q.statuses = try FeatureQueryParser.list(v, name: "status").map { s throws(CivicMapError) in
                guard let status = SelectionStatus(rawValue: s) else {
                    throw .invalidParameter(name: "status", reason: "unknown status '\(s)'; known: \(SelectionStatus.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                return status
            }
        }
        if let v = values["from"] {
            guard v.count == 10, FeatureQueryParser.isRFC3339(Substring(v)) else { throw .invalidParameter(name: "from", reason: "'\(v)' is not a date YYYY-MM-DD") }
            q.from = v
        }
        if let v = values["topics"] { q.topics = try FeatureQueryParser.list(v, name: "topics") }
        if let v = values["near"] { q.near = try FeatureQueryParser.point(v, name: "near") }
        if let v = values["limit"] { q.limit = min(try FeatureQueryParser.limit(v), maximumLimit) }
        if let v = values["offset"] { q.offset = try FeatureQueryParser.integer(v, name: "offset", minimum: 0) }
        return q
    }
}

/// A programme with the site that hosts it.
public struct ProgrammeListing: Sendable {
    public var programme: Programme
    public var site: Organisation
    public init(programme: Programme, site: Organisation) {
        self.programme = programme
        self.site = site
    }
}

public struct ProgrammePage: Sendable {
    public var listings: [ProgrammeListing]
    public var numberMatched: Int
    public init(listings: [ProgrammeListing], numberMatched: Int) {
        self.listings = listings
        self.numberMatched = numberMatched
    }
}
