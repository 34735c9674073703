/// What the HTTP layer and the exports need from storage, and nothing more: the narrow seam
/// behind which SpatiaLite sits today and a PostGIS backend can sit later.
public protocol FeatureSource: Sendable {
    func kinds() async throws -> [KindInfo]
    func regions() async throws -> [Region]
    /// One page of organisations and the exact number matching the filters.
    func organisations(matching query: FeatureQuery) async throws -> OrganisationPage
    func organisation(id: Int64) async throws -> Organisation?
    /// Every matching organisation in query order, in chunks, so memory stays flat.
    func chunks(matching query: FeatureQuery, chunkSize: Int) async throws -> OrganisationChunks
    /// The bounding box of the organisations of these kinds (nil when there are none).
    func extent(of kinds: [OrganisationKind]) async throws -> BoundingBox?
    /// Throws when the store cannot answer queries.
    func checkHealth() async throws
}

public struct OrganisationPage: Sendable {
    public var organisations: [Organisation]
    public var numberMatched: Int
    public init(organisations: [Organisation], numberMatched: Int) {
        self.organisations = organisations
        self.numberMatched = numberMatched
    }
}
