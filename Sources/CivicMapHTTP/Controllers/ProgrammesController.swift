import CivicMapCore
import Hummingbird

/// `/programmes`: internship programmes open to remote organisations, soonest first, each a
/// Feature at its site's point (so GIS tools can map them) or a CSV row.
struct ProgrammesController {
    let source: any FeatureSource
    let baseURL: BaseURL
    let configuration: CivicMapConfiguration

    func addRoutes(to router: RouteTable) {
        router.get("/programmes", use: list)
    }

    @Sendable func list(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let parameters = try QueryParameters.parse(request)
        let values = try FeatureQueryParser.uniqueValues(parameters, allowed: Set(ProgrammeQuery.parameters + ["f"] + CSVDialect.parameters))
        let format = try Format.negotiate(request, parameters: parameters, csvAvailable: true)
        let dialect = format == .csv ? try CSVDialect.parse(values) : .standard
        // A download holds every match unless a limit is given; pages are clamped as items are.
        var query = try ProgrammeQuery.parse(
            values, regions: try await source.regions(), today: TimeStamp.today(),
            maximumLimit: format == .csv ? Int.max : configuration.maximumLimit)
        if values["limit"] == nil { query.limit = format == .csv ? Int.max : configuration.defaultLimit }
        let page = try await source.programmes(matching: query)
        if format == .csv {
            return Responses.csv(ProgrammeListingEncoding.csv(page.listings, near: query.near, dialect: dialect), dialect: dialect, filename: "programmes")
        }
        var w = JSONWriter(capacity: 2048 + page.listings.count * 800)
        w.beginObject()
        w.key("type"); w.string("FeatureCollection")
        w.key("numberMatched"); w.int(page.numberMatched)
        w.key("numberReturned"); w.int(page.listings.count)
        w.key("timeStamp"); w.string(Responses.timeStamp())
        Responses.pagingLinks(&w, url: "\(baseURL(request))/programmes", parameters: parameters, limit: query.limit,
                              offset: query.offset, returned: page.listings.count, matched: page.numberMatched)
        w.key("features"); w.beginArray()
        for listing in page.listings {
            let metres = query.near.map { Geodesic.wgs84.distance(from: $0, to: listing.site.location) }
            ProgrammeListingEncoding.writeFeature(listing, distanceMetres: metres, to: &w)
        }
        w.endArray()
        w.endObject()
        return Responses.json(w, contentType: Responses.geoJSON)
    }
}
