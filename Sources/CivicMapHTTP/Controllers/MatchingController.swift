import CivicMapCore
import Hummingbird

/// `/matching/…`: internship sites for a remote organisation, and remote organisations within
/// reach of an internship site, as GeoJSON (with the `origin` feature) or CSV.
struct MatchingController {
    let source: any FeatureSource
    let baseURL: BaseURL
    let configuration: CivicMapConfiguration

    func addRoutes(to router: Router<BasicRequestContext>) {
        router.get("/matching/nearest-sites", use: nearestSites)
        router.get("/matching/remote-organizations", use: remoteOrganisations)
    }

    @Sendable func nearestSites(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let parameters = try QueryParameters.parse(request)
        let values = try FeatureQueryParser.uniqueValues(parameters, allowed: Set(Matching.nearestSitesParameters + ["f"] + CSVDialect.parameters))
        let format = try Format.negotiate(request, parameters: parameters, csvAvailable: true)
        let matching = Matching(source: source)
        let origin = try await matching.organisation(values["organization"], parameter: "organization")
        let options = try Matching.nearestSitesOptions(values)
        let (sites, matched) = try await matching.nearestSites(to: origin, k: options.k, sameRegion: options.sameRegion)
        if format == .csv {
            let dialect = try CSVDialect.parse(values)
            let encoder = CSVExport(dialect: dialect, withDistance: true)
            return Responses.csv(encoder.head(count: sites.count) + encoder.encode(sites, first: true), dialect: dialect,
                                 filename: "nearest-sites-\(origin.id ?? 0)")
        }
        var w = JSONWriter(capacity: 4096 + sites.count * 1500)
        writeEnvelope(&w, origin: origin, matched: matched, returned: sites.count)
        w.key("links"); w.beginArray()
        Responses.link(&w, href: "\(baseURL(request))/matching/nearest-sites?" + QueryParameters.encode(parameters), rel: "self", type: Responses.geoJSON)
        w.endArray()
        writeFeatures(sites, to: &w)
        return Responses.json(w, contentType: Responses.geoJSON)
    }

    @Sendable func remoteOrganisations(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let parameters = try QueryParameters.parse(request)
        let values = try FeatureQueryParser.uniqueValues(
            parameters, allowed: Set(Matching.remoteOrganisationsParameters + ["f"] + CSVDialect.parameters))
        let format = try Format.negotiate(request, parameters: parameters, csvAvailable: true)
        let matching = Matching(source: source)
        let site = try await matching.organisation(values["site"], parameter: "site")
        var query = try await matching.remoteOrganisationsQuery(site: site, values, defaultThresholdKm: configuration.remoteThresholdKm)
        if format == .csv {
            // A download holds every match unless a limit is given.
            let dialect = try CSVDialect.parse(values)
            let chunks = try await source.chunks(matching: query, chunkSize: ExportController.chunkSize)
            return Responses.stream(chunks, contentType: dialect.mediaType, filename: "remote-near-site-\(site.id ?? 0).\(dialect.fileExtension)",
                                    encoder: CSVExport(dialect: dialect, withDistance: true))
        }
        query.limit = min(query.limit ?? configuration.defaultLimit, configuration.maximumLimit)
        let page = try await source.organisations(matching: query)
        var w = JSONWriter(capacity: 4096 + page.organisations.count * 800)
        writeEnvelope(&w, origin: site, matched: page.numberMatched, returned: page.organisations.count)
        Responses.pagingLinks(&w, url: "\(baseURL(request))/matching/remote-organizations", parameters: parameters,
                              limit: query.limit ?? 0, offset: query.offset, returned: page.organisations.count, matched: page.numberMatched)
        writeFeatures(page.organisations, to: &w)
        return Responses.json(w, contentType: Responses.geoJSON)
    }

    private func writeEnvelope(_ w: inout JSONWriter, origin: Organisation, matched: Int, returned: Int) {
        w.beginObject()
        w.key("type"); w.string("FeatureCollection")
        w.key("origin"); GeoJSON.writeFeature(origin, to: &w)
        w.key("numberMatched"); w.int(matched)
        w.key("numberReturned"); w.int(returned)
        w.key("timeStamp"); w.string(Responses.timeStamp())
    }

    private func writeFeatures(_ organisations: [Organisation], to w: inout JSONWriter) {
        w.key("features"); w.beginArray()
        for o in organisations { GeoJSON.writeFeature(o, to: &w) }
        w.endArray()
        w.endObject()
    }
}
