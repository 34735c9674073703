import CivicMapCore
import Foundation
import Hummingbird

/// `/reports/regions/{region}`: the region report as JSON, CSV, or (for browsers) the
/// printable page, which draws its charts from the JSON.
struct ReportsController {
    let source: any FeatureSource
    let baseURL: BaseURL
    let configuration: CivicMapConfiguration
    let files: WebFiles

    func addRoutes(to router: RouteTable) {
        router.get("/reports/regions/:region", use: region)
    }

    @Sendable func region(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let parameters = try QueryParameters.parse(request)
        let format = try Format.negotiate(request, parameters: parameters, htmlAvailable: true, csvAvailable: true)
        if format == .html { return try files.page("report.html") }
        let values = try FeatureQueryParser.uniqueValues(parameters, allowed: Set(RegionReportQuery.parameters + ["f"] + CSVDialect.parameters))
        let raw = context.parameters.get("region") ?? ""
        let key = raw.removingPercentEncoding ?? raw
        guard let region = try await source.regions().region(key) else {
            throw CivicMapError.notFound("region '\(key)' (use an ISO 3166-2 code such as RU-PER or a two-digit code such as 59)")
        }
        let query = try RegionReportQuery.parse(
            values, region: region, kinds: try await source.kinds().map(\.kind), defaultThresholdKm: configuration.remoteThresholdKm)
        let report = try await source.regionReport(query)
        let generatedAt = Responses.timeStamp()
        if format == .csv {
            let dialect = try CSVDialect.parse(values)
            return Responses.csv(RegionReportCSV.encode(report, generatedAt: generatedAt, dialect: dialect), dialect: dialect,
                                 filename: "report-\(region.iso ?? region.code)")
        }
        var w = JSONWriter(capacity: 16_384)
        RegionReportJSON.write(report, generatedAt: generatedAt, to: &w)
        return Responses.json(w)
    }
}
