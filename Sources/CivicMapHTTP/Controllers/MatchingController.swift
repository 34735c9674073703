import CivicMapCore
import Hummingbird

/// `/matching/…`: internship sites for a remote organisation, and remote organisations within
/// reach of an internship site, as GeoJSON (with the `origin` feature) or CSV.
struct MatchingController {
    let source: any FeatureSource
    let baseURL: BaseURL
    let configuration: CivicMapConfiguration

    func addRoutes(to router: RouteTable) {
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
        let url = "\(baseURL(request))/matching/nearest-sites?" + QueryParameters.encode(parameters)
        MatchingJSON.write(origin: origin, matches: sites, matched: matched, timeStamp: Responses.timeStamp(), links: { w in
            w.key("links"); w.beginArray()
            Responses.link(&w, href: url, rel: "self", type: Responses.geoJSON)
            w.endArray()
        }, to: &w)
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
        let url = "\(baseURL(request))/matching/remote-organizations"
        MatchingJSON.write(origin: site, matches: page.organisations, matched: page.numberMatched, timeStamp: Responses.timeStamp(), links: { w in
            Responses.pagingLinks(&w, url: url, parameters: parameters + Matching.defaultsTaken(by: query, from: values),
                                  limit: query.limit ?? 0, offset: query.offset,
                                  returned: page.organisations.count, matched: page.numberMatched)
        }, to: &w)
        return Responses.json(w, contentType: Responses.geoJSON)
    }
}
