import CivicMapCore
import CivicMapStore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Synchronization
import Testing

@testable import CivicMapHTTP

/// Runs requests through the real router over a real SpatiaLite file with the demo data.
struct Server {
    static let shared: Result<CivicMapDatabase, any Error> = Result { try demoDatabase() }

    /// Where the tests' databases live; removed when the test process exits, after their last use.
    static let directory: URL = {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("civicmap-http-\(UUID().uuidString)")
        atexit { try? FileManager.default.removeItem(at: Server.directory) }
        return directory
    }()

    /// A new database file with the bundled regions, populated places and demo organisations.
    static func demoDatabase() throws -> CivicMapDatabase {
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let directory = Self.directory.appendingPathComponent(UUID().uuidString)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let database = try CivicMapDatabase(path: directory.appendingPathComponent("http.sqlite").path)
        let data = repository.appendingPathComponent("data").path
        try database.loadRegions(RegionReader.read(csvPath: data + "/regions.csv", outlinesPath: data + "/regions_ru.geojson"), by: "cli:test")
        try database.loadSettlements(SettlementReader.read(path: data + "/settlements_ru.csv"))
        _ = try database.importFiles([data + "/organizations.geojson"], currentYear: 2026)
        return database
    }

    static func run(
        _ uri: String, method: HTTPRequest.Method = .get, headers: HTTPFields = [:], maximumLimit: Int = 10_000,
        publicURL: String? = nil, _ check: @escaping @Sendable (TestResponse) async throws -> Void
    ) async throws {
        var configuration = CivicMapConfiguration()
        configuration.publicURL = publicURL
        configuration.maximumLimit = maximumLimit
        configuration.defaultLimit = min(configuration.defaultLimit, maximumLimit)
        let app = buildApplication(configuration: configuration, source: try shared.get(), logger: Logger(label: "test"))
        try await app.test(.router) { client in
            try await client.execute(uri: uri, method: method, headers: headers) { response in try await check(response) }
        }
    }

    static func json(_ response: TestResponse) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any])
    }

    /// Asserts an RFC 9457 problem naming `parameter`.
    static func expectProblem(_ response: TestResponse, status: HTTPResponse.Status, parameter: String? = nil) throws {
        #expect(response.status == status)
        #expect(response.headers[.contentType] == "application/problem+json")
        let body = try json(response)
        #expect(body["status"] as? Int == Int(status.code))
        #expect((body["title"] as? String)?.isEmpty == false)
        #expect((body["detail"] as? String)?.isEmpty == false)
        if let parameter { #expect(body["parameter"] as? String == parameter, "\(body)") }
    }
}

/// Accept headers as browsers, GIS tools and scripts send them (RFC 9110 §12.5.1).
@Suite struct ContentNegotiationTests {
    static let all: [Format] = [.json, .html, .csv]

    @Test(arguments: [
        ("", Format.json), ("*/*", .json), ("application/json", .json), ("application/geo+json", .json),
        ("text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8", .html),
        ("text/html, application/json", .html), ("application/json, text/html", .json),
        ("text/html;q=0.5, application/json", .json), ("text/html, application/json;q=0.9", .html),
        ("text/csv", .csv), ("text/csv;q=0.5, application/geo+json", .json), ("application/json;q=0.2, text/*", .html),
        ("text/csv, */*", .csv), ("*/*, text/csv", .csv), ("application/json;q=0, */*", .html), ("text/*;q=0.3, text/csv;q=0.9, */*;q=0.1", .csv),
        ("image/png", .json), ("*/*;q=0", .json), ("text/html;q=garbage", .html), ("TEXT/HTML", .html),
    ])
    func choosesWhatTheClientPrefers(accept: String, expected: Format) {
        #expect(Format.preferred(accept: accept, offered: Self.all) == expected)
    }

    @Test func formatsNotOfferedAreNeverChosen() {
        #expect(Format.preferred(accept: "text/html", offered: [.json]) == .json)
        #expect(Format.preferred(accept: "text/csv, text/html;q=0.5", offered: [.json, .html]) == .html)
    }
}

@Suite("OGC API – Features over HTTP")
struct HTTPTests {
    @Test(arguments: ["*/*", "application/json", ""])
    func landingPageAnswersJSON(accept: String) async throws {
        var headers = HTTPFields()
        if !accept.isEmpty { headers[.accept] = accept }
        try await Server.run("/", headers: headers) { response in
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "application/json")
            let links = try #require(try Server.json(response)["links"] as? [[String: String]])
            let desc = try #require(links.first { $0["rel"] == "service-desc" })
            #expect(desc["type"] == "application/vnd.oai.openapi+json;version=3.0")
            #expect(Set(links.compactMap { $0["rel"] }).isSuperset(of: ["self", "conformance", "data"]))
        }
    }

    /// The remoteness threshold is `threshold_km` in matching and reports, `min_distance_km` in
    /// lists: a name from the other endpoint is refused with the one that works here.
    @Test(arguments: [
        ("/collections/ngo/items?threshold_km=50", "use min_distance_km here"),
        ("/matching/remote-organizations?site=21&min_distance_km=50", "use threshold_km here"),
        ("/collections/ngo/items?f=csv", "/export/ngo.csv takes the same filters"),
    ])
    func refusalsNameWhatWorks(uri: String, hint: String) async throws {
        try await Server.run(uri) { response in
            try Server.expectProblem(response, status: .badRequest)
            #expect((try Server.json(response)["detail"] as? String)?.contains(hint) == true)
        }
    }

    /// A link to the map (`/?lang=en&region_iso=RU-PER`) fetched by curl or a link preview gets the
    /// landing document, not a 400 for the page's parameters; others are still refused.
    @Test func landingDocumentTakesTheMapPagesParameters() async throws {
        try await Server.run("/?lang=en&region_iso=RU-PER&remote=1&km=50", headers: [.accept: "*/*"]) { response in
            #expect(response.status == .ok && response.headers[.contentType] == "application/json")
        }
        try await Server.run("/?colour=red", headers: [.accept: "*/*"]) { response in try Server.expectProblem(response, status: .badRequest) }
    }

    /// The list of the map page's parameters must follow what web/app.js reads.
    @Test func mapPageParametersFollowTheScript() throws {
        let script = try String(contentsOfFile: #filePath.components(separatedBy: "/Tests/")[0] + "/web/app.js", encoding: .utf8)
        let read = Set(script.matches(of: /p\.get\('([a-z_]+)'\)/).map { String($0.1) })
        #expect(!read.isEmpty && read.isSubset(of: Set(WebFiles.mapPageParameters)), "\(read.subtracting(WebFiles.mapPageParameters))")
    }

    /// Monitors, link checkers and caches send HEAD: the GET's status and headers, no body.
    @Test(arguments: ["/health", "/", "/collections/organizations/items?limit=2", "/export/organizations.geojson", "/static/app.js"])
    func headAnswersAsGetWithoutABody(uri: String) async throws {
        try await Server.run(uri, method: .head) { response in
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] != nil)
            #expect(response.body.readableBytes == 0)
        }
    }

    /// A path that exists refuses other methods with 405 and says which it answers; the
    /// read-only server has no write methods anywhere.
    @Test(arguments: [
        ("/collections/organizations/items", HTTPRequest.Method.delete), ("/collections/organizations/items", .post),
        ("/collections/organizations/items/1", .put), ("/api", .post), ("/health", .patch),
    ])
    func otherMethodsOfAPathAreNotAllowed(uri: String, method: HTTPRequest.Method) async throws {
        try await Server.run(uri, method: method) { response in
            try Server.expectProblem(response, status: .methodNotAllowed)
            #expect(response.headers[.allow] == "GET, HEAD")
        }
        try await Server.run("/no-such-path", method: method) { response in
            try Server.expectProblem(response, status: .notFound)
        }
    }

    /// Links are built from `Host` when no public URL is set: a malformed one must not reach them.
    @Test func onlyWellFormedHostsReachLinks() {
        for host in ["maps.example.org", "127.0.0.1:8080", "[::1]:8080", "localhost"] { #expect(BaseURL.isHost(host), "\(host)") }
        for host in ["evil.example\"><script>", "a/b", "a b", "host:port", "host:123456", "", "[::1", "пример.рф"] { #expect(!BaseURL.isHost(host), "\(host)") }
    }

    @Test func conformanceDeclaresCoreAndGeoJSON() async throws {
        try await Server.run("/conformance") { response in
            let classes = try #require(try Server.json(response)["conformsTo"] as? [String])
            #expect(classes.contains("http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core"))
            #expect(classes.contains("http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson"))
        }
    }

    @Test func openAPIDeclaresLimitAsClientsExpect() async throws {
        try await Server.run("/api") { response in
            #expect(response.headers[.contentType] == "application/vnd.oai.openapi+json;version=3.0")
            let doc = try Server.json(response)
            let items = try #require((doc["paths"] as? [String: Any])?["/collections/{collectionId}/items"] as? [String: Any])
            let parameters = try #require((items["get"] as? [String: Any])?["parameters"] as? [[String: Any]])
            let limit = try #require(parameters.first { $0["name"] as? String == "limit" })
            #expect(limit["style"] as? String == "form" && limit["explode"] as? Bool == false)
            let schema = try #require(limit["schema"] as? [String: Any])
            #expect(schema["maximum"] as? Int == 10_000 && schema["minimum"] as? Int == 1 && schema["default"] as? Int == 100)
            #expect(parameters.contains { $0["name"] as? String == "datetime" })
        }
    }

    @Test func collectionsListKindsAndRegions() async throws {
        try await Server.run("/collections") { response in
            let collections = try #require(try Server.json(response)["collections"] as? [[String: Any]])
            #expect(collections.map { $0["id"] as? String } == ["organizations", "ngo", "tos", "internship_site", "regions"])
            #expect(collections.allSatisfy { $0["itemType"] as? String == "feature" })
            // Russian first, then English, in every description.
            #expect(collections.allSatisfy { c in
                let text = c["description"] as? String ?? ""
                return text.unicodeScalars.first.map { (0x410...0x44F).contains($0.value) } == true && text.contains { $0 >= "a" && $0 <= "z" }
            })
            func extent(_ c: [String: Any]) throws -> [Double] {
                try #require((((c["extent"] as? [String: Any])?["spatial"] as? [String: Any])?["bbox"] as? [[Double]])?.first)
            }
            // The demo lies between Moscow and Yakutsk.
            let organisations = try extent(collections[0])
            #expect(organisations.count == 4 && organisations[0] > 30 && organisations[0] < organisations[2] && organisations[2] < 150)
            // Russia's outlines cross ±180° (Chukotka): from Kaliningrad east to Chukotka's
            // western-hemisphere tip, not a box around the world.
            let regions = try extent(collections[4])
            #expect(regions[0] > 19 && regions[0] < 21 && regions[2] > -170 && regions[2] < -168, "\(regions)")
        }
    }

    @Test func theAcceptanceQuery() async throws {
        try await Server.run("/collections/organizations/items?region_iso=RU-PER&min_distance_km=50") { response in
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "application/geo+json")
            let text = String(buffer: response.body)
            #expect(text.contains("«Проектная среда»"))  // UTF-8 as is, no \u escapes
            #expect(!text.contains("\\u04"))
            let body = try Server.json(response)
            #expect(body["numberMatched"] as? Int == 1 && body["numberReturned"] as? Int == 1)
            let feature = try #require((body["features"] as? [[String: Any]])?.first)
            let properties = try #require(feature["properties"] as? [String: Any])
            #expect(properties["settlement"] as? String == "Кудымкар")
            #expect(abs((properties["distance_to_center_km"] as? Double ?? 0) - 145.5527) < 0.001)
        }
    }

    @Test func pagingLinksWalkEveryFeature() async throws {
        try await Server.run("/collections/organizations/items?limit=10&offset=10&sortby=name") { response in
            let body = try Server.json(response)
            #expect(body["numberMatched"] as? Int == 23 && body["numberReturned"] as? Int == 10)
            let links = try #require(body["links"] as? [[String: String]])
            let next = try #require(links.first { $0["rel"] == "next" }?["href"])
            let prev = try #require(links.first { $0["rel"] == "prev" }?["href"])
            #expect(next.contains("offset=20") && next.contains("sortby=name") && next.contains("limit=10"))
            #expect(!prev.contains("offset="))
        }
        try await Server.run("/collections/organizations/items?limit=10&offset=20") { response in
            let body = try Server.json(response)
            #expect(body["numberReturned"] as? Int == 3)
            #expect(!(body["links"] as? [[String: String]] ?? []).contains { $0["rel"] == "next" })
        }
        try await Server.run("/collections/organizations/items?region_iso=RU-CHU&limit=10&offset=30") { response in  // none matched
            let links = try Server.json(response)["links"] as? [[String: String]] ?? []
            #expect(links.first { $0["rel"] == "prev" }.map { !($0["href"] ?? "").contains("offset=") } == true, "\(links)")
        }
        // Past the end, "prev" leads to the last page that holds features (23 → offset 20).
        try await Server.run("/collections/organizations/items?limit=10&offset=1000") { response in
            let links = try Server.json(response)["links"] as? [[String: String]] ?? []
            #expect(links.first { $0["rel"] == "prev" }?["href"]?.contains("offset=20") == true, "\(links)")
        }
        try await Server.run("/collections/organizations/items?offset=9223372036854775808") { response in
            try Server.expectProblem(response, status: .badRequest, parameter: "offset")
            #expect((try Server.json(response)["detail"] as? String)?.contains("out of range") == true)
        }
    }

    @Test func limitAboveTheMaximumIsClamped() async throws {
        try await Server.run("/collections/organizations/items?limit=100000", maximumLimit: 5) { response in
            #expect(response.status == .ok)
            let body = try Server.json(response)
            #expect(body["numberReturned"] as? Int == 5)
        }
    }

    @Test(arguments: [
        ("/collections/organizations/items?limit=0", "limit"),
        ("/collections/organizations/items?limit=unlimited", "limit"),
        ("/collections/organizations/items?bbox=1,2,3", "bbox"),
        ("/collections/organizations/items?bbox=0,60,10,50", "bbox"),
        ("/collections/organizations/items?colour=red", "colour"),
        ("/collections/organizations/items?region_iso=RU-XX", "region_iso"),
        ("/collections/organizations/items?min_distance_km=-1", "min_distance_km"),
        ("/collections/organizations/items?sortby=secret", "sortby"),
        ("/collections/organizations/items?f=xml", "f"),
        ("/collections/organizations/items?q=%ZZ", "q"),
        ("/collections/regions/items?kind=ngo", "kind"),
        ("/collections?x=1", "x"),
        ("/export/organizations.csv?offset=-5", "offset"),
    ])
    func badInputIsAProblemNamingTheParameter(uri: String, parameter: String) async throws {
        try await Server.run(uri) { response in try Server.expectProblem(response, status: .badRequest, parameter: parameter) }
    }

    /// GDAL sends the parameters of an `OAPIF:` URL with every request it makes, so the OGC
    /// documents ignore the items' parameters (which then filter the items); others are still a 400.
    @Test(arguments: [
        "/?min_distance_km=50&f=json", "/conformance?region_iso=RU-PER", "/api?q=%D1%81%D0%B0%D0%B4",
        "/collections?kind=ngo", "/collections/ngo?min_distance_km=50&limit=10", "/collections/ngo/queryables?bbox=50,50,60,60",
    ])
    func theOGCDocumentsIgnoreTheItemsParameters(uri: String) async throws {
        try await Server.run(uri) { response in #expect(response.status == .ok, "\(uri)") }
        try await Server.run(uri + "&colour=red") { response in try Server.expectProblem(response, status: .badRequest, parameter: "colour") }
    }

    @Test(arguments: [
        "/collections/churches", "/collections/churches/items", "/collections/organizations/items/999999",
        "/collections/organizations/items/abc", "/collections/tos/items/1", "/nowhere", "/export/regions.csv",
        "/export/organizations.xlsx",
    ])
    func unknownThingsAreProblem404(uri: String) async throws {
        try await Server.run(uri) { response in try Server.expectProblem(response, status: .notFound) }
    }

    /// GDAL takes field types from the schema the collection links as `describedby`, rather
    /// than from a first page (where a distance of 0 made `distance_to_center_km` an Integer).
    @Test func aCollectionLinksTheSchemaOfItsFeatures() async throws {
        try await Server.run("/collections/internship_site") { response in
            let links = try #require(try Server.json(response)["links"] as? [[String: Any]])
            let schema = links.filter { ($0["href"] as? String)?.hasSuffix("/collections/internship_site/schema") == true }
            #expect(Set(schema.compactMap { $0["rel"] as? String }).isSuperset(of: ["describedby", "describedBy"]))
            #expect(schema.allSatisfy { $0["type"] as? String == "application/schema+json" })
        }
        try await Server.run("/collections/internship_site/schema") { response in
            #expect(response.headers[.contentType] == "application/schema+json")
            let body = try Server.json(response)
            let properties = (((body["properties"] as? [String: Any])?["properties"] as? [String: Any])?["properties"] as? [String: Any]) ?? [:]
            func type(_ name: String) -> String? { (properties[name] as? [String: Any])?["type"] as? String }
            #expect(type("distance_to_center_km") == "number" && type("founded_year") == "integer" && type("categories") == "array")
            #expect(type("programmes") == "array" && (properties["created_at"] as? [String: Any])?["format"] as? String == "date-time")
        }
        try await Server.run("/collections/regions/schema") { response in try Server.expectProblem(response, status: .notFound) }
    }

    @Test func oneFeatureWithLinks() async throws {
        try await Server.run("/collections/organizations/items/20") { response in
            #expect(response.headers[.contentType] == "application/geo+json")
            let feature = try Server.json(response)
            #expect(feature["type"] as? String == "Feature" && feature["id"] as? Int == 20)
            #expect((feature["links"] as? [[String: String]])?.contains { $0["rel"] == "self" } == true)
        }
        for id in ["59", "RU-PER", "ru-per"] {  // its code, or its ISO code as everywhere else; links name the code
            try await Server.run("/collections/regions/items/\(id)") { response in
                let feature = try Server.json(response)
                #expect((feature["properties"] as? [String: Any])?["centre_name"] as? String == "Пермь")
                #expect((feature["geometry"] as? [String: Any])?["type"] as? String == "MultiPolygon")
                let links = feature["links"] as? [[String: String]] ?? []
                #expect(links.contains { $0["rel"] == "self" && $0["href"]?.hasSuffix("/collections/regions/items/59") == true }, "\(links)")
            }
        }
        // Its entity tag revalidates it: the outline is not sent again.
        let seen = Mutex<String?>(nil)
        try await Server.run("/collections/regions/items/59") { response in seen.withLock { $0 = response.headers[.eTag] } }
        let tag = try #require(seen.withLock { $0 })
        try await Server.run("/collections/regions/items/59", headers: [.ifNoneMatch: tag]) { response in
            #expect(response.status == .notModified && response.body.readableBytes == 0)
            #expect(response.headers[.eTag] == tag && response.headers[.vary] == "Accept")
        }
    }

    @Test func filtersCombine() async throws {
        try await Server.run("/collections/ngo/items?region_iso=RU-SA&q=%D1%84%D0%BE%D0%BD%D0%B4&sortby=-distance_to_center_km") { response in
            let features = try #require(try Server.json(response)["features"] as? [[String: Any]])
            #expect(!features.isEmpty)
            for f in features {
                let p = f["properties"] as? [String: Any] ?? [:]
                #expect(p["kind"] as? String == "ngo" && p["region_iso"] as? String == "RU-SA")
                #expect((p["name"] as? String)?.lowercased().contains("фонд") == true)
            }
        }
        try await Server.run("/collections/organizations/items?bbox=129,61,131,63&categories=%D0%A2%D0%9E%D0%A1%20%D0%B8%20%D0%BC%D0%B5%D1%81%D1%82%D0%BD%D1%8B%D0%B5%20%D1%81%D0%BE%D0%BE%D0%B1%D1%89%D0%B5%D1%81%D1%82%D0%B2%D0%B0") { response in
            let features = try #require(try Server.json(response)["features"] as? [[String: Any]])
            #expect(features.count == 1)
            #expect((features.first?["properties"] as? [String: Any])?["kind"] as? String == "tos")
        }
    }

    @Test func exportStreamsExactlyTheFilteredSet() async throws {
        try await Server.run("/export/organizations.geojson?region_iso=RU-SA") { response in
            #expect(response.headers[.contentType] == "application/geo+json")
            #expect(response.headers[.contentDisposition]?.contains("organizations.geojson") == true)
            let body = try Server.json(response)
            let features = try #require(body["features"] as? [[String: Any]])
            #expect(features.count == body["numberMatched"] as? Int)
            #expect(features.count > 10)
            #expect(features.allSatisfy { ($0["properties"] as? [String: Any])?["region_iso"] as? String == "RU-SA" })
        }
        try await Server.run("/export/organizations.csv?min_distance_km=50") { response in
            let lines = String(buffer: response.body).split(separator: "\r\n")
            #expect(lines.first?.hasPrefix("id,name,kind,region_iso") == true)
            #expect(lines.count > 1)
        }
    }

    @Test func corsAllowsReadsFromAnyOrigin() async throws {
        try await Server.run("/collections", headers: [.origin: "https://minsoc.example.ru"]) { response in
            #expect(response.headers[.accessControlAllowOrigin] == "*")
        }
    }

    @Test func healthAnswers() async throws {
        try await Server.run("/health") { response in
            #expect(response.status == .ok)
            let body = try Server.json(response)
            #expect(body["database"] as? String == "ok")
        }
    }
}

@Suite("Map support: page, overview, rings, tiles")
struct MapSupportTests {
    @Test func browsersGetTheMapPageWithAStrictPolicy() async throws {
        try await Server.run("/?lang=en", headers: [.accept: "text/html,application/xhtml+xml,*/*;q=0.8"]) { response in
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "text/html; charset=utf-8")
            let csp = try #require(response.headers[.contentSecurityPolicy])
            #expect(csp.contains("script-src 'self'") && csp.contains("frame-ancestors *") && !csp.contains("unsafe-inline"))
            #expect(csp.contains("img-src 'self' data: https://tile.openstreetmap.org"))
            #expect(response.headers[.xContentTypeOptions] == "nosniff")
            #expect(response.headers[HTTPField.Name("X-Frame-Options")!] == nil)
        }
        try await Server.run("/embed?kind=tos&locked=1") { response in
            #expect(response.status == .ok)
            #expect(response.headers[.contentSecurityPolicy] != nil)
            #expect(response.headers[.crossOriginResourcePolicy] == "cross-origin")
        }
        // A site isolated with COEP require-corp loads the loader only if it says it may.
        try await Server.run("/embed.js") { response in
            #expect(response.status == .ok)
            #expect(response.headers[.crossOriginResourcePolicy] == "cross-origin")
        }
    }

    /// Behind a proxy's sub-path (`--public-url https://host/civicmap/`) the pages' links and
    /// scripts go under it, and the scripts learn the base from the page; at the root, nothing changes.
    @Test(arguments: ["/", "/embed", "/reports/regions/RU-PER"])
    func pagesBehindASubPathLinkUnderIt(uri: String) async throws {
        let html = [HTTPField.Name.accept: "text/html"]
        try await Server.run(uri, headers: HTTPFields(html.map { HTTPField(name: $0.key, value: $0.value) }), publicURL: "https://maps.example.org/civicmap/") { response in
            let page = String(buffer: response.body)
            #expect(page.contains("<meta name=\"civicmap-base\" content=\"/civicmap\">"))
            #expect(page.contains("src=\"/civicmap/static/app.js\"") || page.contains("src=\"/civicmap/static/report.js\""))
            #expect(!page.contains(" src=\"/static/") && !page.contains(" href=\"/static/") && !page.contains(" href=\"/api\""))
        }
        try await Server.run(uri, headers: HTTPFields(html.map { HTTPField(name: $0.key, value: $0.value) })) { response in
            let page = String(buffer: response.body)
            #expect(!page.contains("civicmap-base") && page.contains(" href=\"/static/"))
        }
    }

    /// Representations chosen by `Accept` say so to caches; files with one media type vary by
    /// their content coding only (gzip or not), and images not at all.
    @Test func negotiatedAnswersVaryByAccept() async throws {
        for (uri, accept) in [("/", "text/html"), ("/", "application/json"), ("/reports/regions/RU-PER", "text/csv")] {
            try await Server.run(uri, headers: [.accept: accept]) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.vary] == "Accept, Accept-Encoding", "\(uri) \(accept)")
            }
        }
        try await Server.run("/static/app.js") { response in #expect(response.headers[.vary] == "Accept-Encoding") }
        try await Server.run("/static/favicon.svg") { response in #expect(response.headers[.vary] == "Accept-Encoding") }
    }

    @Test func leafletComesFromDebianThroughTheApp() async throws {
        try await Server.run("/vendor/leaflet/leaflet.js") { response in
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "text/javascript; charset=utf-8")
            #expect(String(buffer: response.body).contains("Leaflet"))
        }
        try await Server.run("/vendor/leaflet/leaflet.markercluster.js") { response in #expect(response.status == .ok) }
        try await Server.run("/vendor/leaflet/..%2F..%2F..%2Fetc%2Fpasswd") { response in #expect(response.status == .notFound) }
        try await Server.run("/static/.hidden.js") { response in #expect(response.status == .notFound) }
    }

    @Test func overviewCellsAddUpToTheMatches() async throws {
        try await Server.run("/overview?zoom=3&region_iso=RU-SA") { response in
            let body = try Server.json(response)
            let cells = try #require(body["cells"] as? [[String: Any]])
            let total = try #require(body["numberMatched"] as? Int)
            #expect(total > 10)
            #expect(cells.reduce(0) { $0 + ($1["count"] as? Int ?? 0) } == total)
            let byKind = try #require(body["byKind"] as? [String: Int])
            #expect(byKind.values.reduce(0, +) == total)
            #expect(cells.allSatisfy { ($0["lon"] as? Double ?? 0) > 100 })  // Yakutia lies east of 100°E
        }
        try await Server.run("/overview?zoom=99") { response in try Server.expectProblem(response, status: .badRequest, parameter: "zoom") }
        try await Server.run("/overview?limit=5") { response in try Server.expectProblem(response, status: .badRequest, parameter: "limit") }
    }

    @Test func ringIsAGeodesicCircleAroundTheCentre() async throws {
        try await Server.run("/rings?region_iso=RU-PER&km=50") { response in
            #expect(response.headers[.contentType] == "application/geo+json")
            let feature = try Server.json(response)
            let ring = try #require(((feature["geometry"] as? [String: Any])?["coordinates"] as? [[[Double]]])?.first)
            let perm = Coordinate(trustedLatitude: 58.0105, longitude: 56.2502)
            #expect(ring.count > 64)
            for p in ring {
                let d = Geodesic.wgs84.distance(from: perm, to: Coordinate(trustedLatitude: p[1], longitude: p[0]))
                #expect(abs(d - 50_000) < 1, "\(d)")  // 6-decimal coordinates: within a metre
            }
        }
        try await Server.run("/rings?region_iso=RU-CHU&km=500") { response in  // across the antimeridian: two sides
            let geometry = try #require(try Server.json(response)["geometry"] as? [String: Any])
            #expect(geometry["type"] as? String == "MultiPolygon")
            let parts = try #require(geometry["coordinates"] as? [[[[Double]]]])
            #expect(parts.count == 2 && parts.allSatisfy { $0[0].allSatisfy { (-180...180).contains($0[0]) } })
        }
        try await Server.run("/rings?region_iso=RU-PER&km=-3") { response in try Server.expectProblem(response, status: .badRequest, parameter: "km") }
        try await Server.run("/rings?km=5") { response in try Server.expectProblem(response, status: .badRequest, parameter: "region_iso") }
    }

    @Test func nearOrdersByGeodesicDistanceFromThePoint() async throws {
        // From Kudymkar: «Проектная среда» (in Kudymkar) comes first, at 0 km.
        try await Server.run("/collections/organizations/items?near=54.6532,59.0152&limit=5") { response in
            let features = try #require(try Server.json(response)["features"] as? [[String: Any]])
            let distances = features.compactMap { ($0["properties"] as? [String: Any])?["distance_km"] as? Double }
            #expect(distances.count == 5 && distances == distances.sorted() && distances[0] == 0)
        }
        try await Server.run("/collections/organizations/items?near=54.6") { response in try Server.expectProblem(response, status: .badRequest, parameter: "near") }
        // sortby names the point's distance too: farthest first, or after another key.
        try await Server.run("/collections/organizations/items?near=54.6532,59.0152&sortby=-distance_km&limit=5") { response in
            let features = try #require(try Server.json(response)["features"] as? [[String: Any]])
            let distances = features.compactMap { ($0["properties"] as? [String: Any])?["distance_km"] as? Double }
            #expect(distances.count == 5 && distances == distances.sorted(by: >) && distances[0] > 1000, "\(distances)")
        }
        try await Server.run("/collections/organizations/items?near=54.6532,59.0152&sortby=kind,distance_km") { response in
            let features = try #require(try Server.json(response)["features"] as? [[String: Any]])
            let rows = features.compactMap { $0["properties"] as? [String: Any] }
            let kinds = rows.compactMap { $0["kind"] as? String }
            #expect(kinds == kinds.sorted())
            for kind in Set(kinds) {
                let distances = rows.filter { $0["kind"] as? String == kind }.compactMap { $0["distance_km"] as? Double }
                #expect(distances == distances.sorted(), "\(kind)")
            }
        }
        // Another key comes first; the point's distance orders its ties (helper-18 asked for names
        // near Perm and got them nearest first).
        try await Server.run("/collections/organizations/items?near=56.2502,58.0105&sortby=-name&limit=8") { response in
            let rows = try #require(try Server.json(response)["features"] as? [[String: Any]]).compactMap { $0["properties"] as? [String: Any] }
            let names = rows.compactMap { $0["name"] as? String }
            #expect(names.count == 8 && names == names.sorted(by: >), "\(names)")
            #expect(rows.allSatisfy { $0["distance_km"] is Double })
        }
        try await Server.run("/collections/organizations/items?sortby=distance_km") { response in
            try Server.expectProblem(response, status: .badRequest, parameter: "sortby")
        }
    }

    @Test func queryablesListTheirValues() async throws {
        try await Server.run("/collections/tos/queryables") { response in
            #expect(response.headers[.contentType] == "application/schema+json")
            let properties = try #require(try Server.json(response)["properties"] as? [String: [String: Any]])
            #expect(properties["kind"]?["enum"] as? [String] == ["tos"])
            let regions = properties["region_iso"]?["enum"] as? [String] ?? []
            #expect(regions.count > 80 && regions.contains("RU-PER") && regions == regions.sorted())
            #expect(properties["categories"]?["type"] as? String == "string")
        }
    }

    @Test func categoriesInUse() async throws {
        try await Server.run("/categories") { response in
            let list = try #require(try Server.json(response)["categories"] as? [[String: Any]])
            #expect(list.contains { $0["name"] as? String == "ТОС и местные сообщества" })
            let counts = list.compactMap { $0["count"] as? Int }
            #expect(counts == counts.sorted(by: >))
        }
    }
}

@Suite("Edge cases found in review")
struct ReviewEdgeCaseTests {
    @Test func errorsKeepTheirStatusAndCORSWhenAnOriginIsSent() async throws {
        try await Server.run("/collections/organizations/items?limit=0", headers: [.origin: "https://example.org"]) { response in
            try Server.expectProblem(response, status: .badRequest, parameter: "limit")
            #expect(response.headers[.accessControlAllowOrigin] == "*")
        }
        // A page on another site may read the ETag (for If-None-Match, which preflights allow)
        // and an export's file name.
        try await Server.run("/collections/organizations/items?limit=1", headers: [.origin: "https://example.org"]) { response in
            #expect(response.status == .ok && response.headers[.eTag] != nil)
            #expect(response.headers[.accessControlExposeHeaders] == "ETag, Content-Disposition")
        }
        try await Server.run("/collections/organizations/items", method: .options, headers: [
            .origin: "https://example.org", .accessControlRequestMethod: "GET", .accessControlRequestHeaders: "if-none-match",
        ]) { response in
            #expect(response.headers[.accessControlAllowHeaders]?.lowercased().contains("if-none-match") == true)
        }
        try await Server.run("/collections/nope", headers: [.origin: "https://example.org"]) { response in
            try Server.expectProblem(response, status: .notFound)
        }
    }

    /// Every map load asks for the outlines (2.25 MB): a browser revalidates its copy.
    @Test func theRegionsCollectionIsRevalidatedNotSentAgain() async throws {
        let uri = "/collections/regions/items?limit=100"
        let seen = Mutex<String?>(nil)
        try await Server.run(uri) { response in
            #expect(response.status == .ok && response.headers[.cacheControl] == "no-cache")
            seen.withLock { $0 = response.headers[.eTag] }
        }
        let etag = try #require(seen.withLock { $0 })
        #expect(etag.hasPrefix("W/\""))
        try await Server.run(uri, headers: [.ifNoneMatch: etag]) { response in
            #expect(response.status == .notModified && response.body.readableBytes == 0)
        }
        // Another page is another document.
        try await Server.run("/collections/regions/items?limit=10", headers: [.ifNoneMatch: etag]) { response in
            #expect(response.status == .ok && response.headers[.eTag] != etag)
        }
    }

    @Test func regionBboxUsesEachPolygonsBounds() async throws {
        // The Norwegian Sea: Chukotka's outline spans ±180° overall but none of its parts is here.
        try await Server.run("/collections/regions/items?bbox=0,65,1,66") { response in
            let body = try Server.json(response)
            #expect(body["numberMatched"] as? Int == 0)
        }
        try await Server.run("/collections/regions/items?bbox=179,64,-179,66") { response in
            let ids = (try Server.json(response)["features"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
            #expect(ids == ["87"])
        }
    }

    @Test(arguments: [
        ("/collections/organizations/items?q=%00", "q"),
        ("/collections/organizations/items?datetime=2020-02-31", "datetime"),
        ("/collections/organizations/items?datetime=2020-01-01T99:00:00Z", "datetime"),
        ("/rings?region_iso=RU-CHU&km=3000", "km"),
        ("/overview?zoom=22", "bbox"),
        ("/categories?f=bogus", "f"),
    ])
    func rejected(uri: String, parameter: String) async throws {
        try await Server.run(uri) { response in try Server.expectProblem(response, status: .badRequest, parameter: parameter) }
    }

    @Test func hugeLimitIsClampedNotRejected() async throws {
        try await Server.run("/collections/organizations/items?limit=99999999999999999999999") { response in
            #expect(response.status == .ok)
        }
    }

    @Test(arguments: ["/collections/organizations/items/+20", "/collections/organizations/items/020", "/collections/regions/items/5",
                      "/export/organizations.xml?near=37.6,55.7"])
    func onlyCanonicalNames(uri: String) async throws {
        try await Server.run(uri) { response in try Server.expectProblem(response, status: .notFound) }
    }
}
