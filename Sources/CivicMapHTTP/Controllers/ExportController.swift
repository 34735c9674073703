import CivicMapCore
import Hummingbird

/// `/export/{collectionId}.geojson|.csv`: every feature matching the items filters, streamed a
/// chunk at a time with no limit, so memory stays flat however many there are.
struct ExportController {
    let source: any FeatureSource
    let configuration: CivicMapConfiguration
    static let chunkSize = 2000

    func addRoutes(to router: Router<BasicRequestContext>) {
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
        let query = try await FeatureRequest(source: source, configuration: configuration)
            .query(request, collection: collection, kinds: catalog.collections[0].kinds ?? [], paged: false, alsoAllowed: [])
        let chunks = try await source.chunks(matching: query, chunkSize: Self.chunkSize)
        switch format {
        case "geojson": return stream(chunks, contentType: Responses.geoJSON, filename: file, encoder: GeoJSONExport())
        case "csv": return stream(chunks, contentType: "text/csv; charset=utf-8", filename: file, encoder: CSVExport())
        default: throw CivicMapError.notFound("export format '.\(format)'")
        }
    }

    private func stream(_ chunks: OrganisationChunks, contentType: String, filename: String, encoder: some ExportEncoder) -> Response {
        let body = ResponseBody { writer in
            try await writer.write(ByteBuffer(bytes: encoder.head(count: chunks.count)))
            var first = true
            for try await chunk in chunks {
                try await writer.write(ByteBuffer(bytes: encoder.encode(chunk, first: first)))
                first = false
            }
            try await writer.write(ByteBuffer(bytes: encoder.tail()))
            try await writer.finish(nil)
        }
        return Response(
            status: .ok,
            headers: [.contentType: contentType, .contentDisposition: "attachment; filename=\"\(filename)\""],
            body: body)
    }
}
