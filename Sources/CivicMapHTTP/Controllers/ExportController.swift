import CivicMapCore
import Hummingbird

/// `/export/{collectionId}.geojson|.csv`: every feature matching the items filters, streamed a
/// chunk at a time with no limit, so memory stays flat however many there are.
struct ExportController {
    let source: any FeatureSource
    let configuration: CivicMapConfiguration
    static let chunkSize = 2000

    func addRoutes(to router: RouteTable) {
        router.get("/export/:file", use: export)
    }

    @Sendable func export(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let file = context.parameters.get("file") ?? ""
        guard let dot = file.lastIndex(of: ".") else { throw CivicMapError.notFound("export '\(file)'") }
        let collectionID = String(file[..<dot]), format = String(file[file.index(after: dot)...])
        guard format == "geojson" || format == "csv" else {
            throw CivicMapError.notFound("export format '.\(format)' (use .geojson or .csv)")
        }
        let catalog = Catalog(kinds: try await source.kinds())
        let collection = try catalog.collection(collectionID)
        guard collection.kinds != nil else {
            throw CivicMapError.notFound("export of '\(collectionID)' (regions are served by /collections/regions/items)")
        }
        let dialectNames: Set<String> = format == "csv" ? Set(CSVDialect.parameters) : []
        let query = try await FeatureRequest(source: source, configuration: configuration)
            .query(request, collection: collection, kinds: catalog.collections[0].kinds ?? [], paged: false, alsoAllowed: dialectNames)
        let dialect = try CSVDialect.parse(Dictionary(
            try QueryParameters.parse(request).filter { dialectNames.contains($0.name) }, uniquingKeysWith: { a, _ in a }))
        if format == "csv" {
            let chunks = try await source.chunks(matching: query, chunkSize: Self.chunkSize)
            return Responses.stream(chunks, contentType: dialect.mediaType, filename: "\(collectionID).\(dialect.fileExtension)",
                                    encoder: CSVExport(dialect: dialect, withDistance: query.near != nil))
        }
        let features = try await source.featureChunks(matching: query, chunkSize: Self.chunkSize)
        return Responses.stream(features, contentType: Responses.geoJSON, filename: file, encoder: GeoJSONExport())
    }
}
