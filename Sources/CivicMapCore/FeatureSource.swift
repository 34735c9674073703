/// What the HTTP layer and the exports need from storage, and nothing more: the narrow seam
/// behind which SpatiaLite sits today and a PostGIS backend can sit later.
public protocol FeatureSource: Sendable {
    func kinds() async throws -> [KindInfo]
    /// The regions, indexed (one directory per version of the regions, not one per request).
    func regions() async throws -> RegionDirectory
    /// One page of organisations and the exact number matching the filters.
    func organisations(matching query: FeatureQuery) async throws -> OrganisationPage
    func organisation(id: Int64) async throws -> Organisation?
    /// Every matching organisation in query order, in chunks, so memory stays flat.
    func chunks(matching query: FeatureQuery, chunkSize: Int) async throws -> OrganisationChunks
    /// The same answers as GeoJSON Features, encoded (the fast path for pages, cards, exports).
    func features(matching query: FeatureQuery) async throws -> EncodedPage
    func feature(id: Int64) async throws -> EncodedFeature?
    func featureChunks(matching query: FeatureQuery, chunkSize: Int) async throws -> FeatureChunks
    /// The bounding box of the organisations of these kinds (nil when there are none).
    func extent(of kinds: [OrganisationKind]) async throws -> BoundingBox?
    /// Counts of matching organisations aggregated on a grid of `cellDegrees` (the map's low
    /// zooms: no per-feature payload however many there are).
    func overview(matching query: FeatureQuery, cellDegrees: Double) async throws -> Overview
    /// Categories in use, most used first.
    func categories() async throws -> [(name: String, count: Int)]
    /// Programmes of internship sites, soonest first, with their sites.
    func programmes(matching query: ProgrammeQuery) async throws -> ProgrammePage
    /// A region's organisations by kind and remoteness, and its populated places' coverage.
    func regionReport(_ query: RegionReportQuery) async throws -> RegionReport
    /// Throws when the store cannot answer queries.
    func checkHealth() async throws
}

/// Encoding on the fly: what a backend without precomputed features (a first PostGIS one) offers.
extension FeatureSource {
    public func features(matching query: FeatureQuery) async throws -> EncodedPage {
        EncodedPage(encoding: try await organisations(matching: query))
    }

    public func feature(id: Int64) async throws -> EncodedFeature? {
        try await organisation(id: id).map(EncodedFeature.init)
    }

    public func featureChunks(matching query: FeatureQuery, chunkSize: Int) async throws -> FeatureChunks {
        try await chunks(matching: query, chunkSize: chunkSize).encoded()
    }
}

public struct OrganisationPage: Sendable {
    public var organisations: [Organisation]
    public var numberMatched: Int
    public init(organisations: [Organisation], numberMatched: Int) {
        self.organisations = organisations
        self.numberMatched = numberMatched
    }
}

/// Grid aggregation of organisations for the map's overview.
public struct Overview: Sendable {
    public struct Cell: Sendable {
        /// Mean position of the organisations in the cell.
        public var longitude: Double
        public var latitude: Double
        public var count: Int
        public var byKind: [OrganisationKind: Int]
        public init(longitude: Double, latitude: Double, count: Int, byKind: [OrganisationKind: Int]) {
            self.longitude = longitude
            self.latitude = latitude
            self.count = count
            self.byKind = byKind
        }
    }
    public var cells: [Cell]
    public var numberMatched: Int { cells.reduce(0) { $0 + $1.count } }
    public var byKind: [OrganisationKind: Int] {
        cells.reduce(into: [:]) { totals, cell in for (k, n) in cell.byKind { totals[k, default: 0] += n } }
    }
    public init(cells: [Cell]) { self.cells = cells }
}

/// Map tiles from MBTiles files, for closed networks with no outside basemap.
public protocol TileSource: Sendable {
    func tilesets() -> [Tileset]
    /// The tile in XYZ numbering (the store flips MBTiles' TMS rows); nil when absent.
    func tile(tileset: String, z: Int, x: Int, y: Int) async throws -> [UInt8]?
}

public struct Tileset: Sendable, Equatable {
    public var name: String
    public var format: String
    public var minZoom: Int
    public var maxZoom: Int
    public var attribution: String?
    public var bounds: BoundingBox?
    public init(name: String, format: String, minZoom: Int, maxZoom: Int, attribution: String?, bounds: BoundingBox?) {
        self.name = name
        self.format = format
        self.minZoom = minZoom
        self.maxZoom = maxZoom
        self.attribution = attribution
        self.bounds = bounds
    }
}
