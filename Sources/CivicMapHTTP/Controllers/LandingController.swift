import CivicMapCore
import Hummingbird

/// `/`, `/conformance` and `/api`: what a client reads before anything else.
struct LandingController {
    let source: any FeatureSource
    let baseURL: BaseURL
    let configuration: CivicMapConfiguration
    let files: WebFiles

    static let conformance = [
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    ]

    func addRoutes(to router: RouteTable) {
        router.get("/", use: landing)
        router.get("/conformance", use: conformance)
        router.get("/api", use: api)
    }

    /// Browsers (Accept: text/html first, or `f=html`) get the map page; API clients get JSON,
    /// including for `*/*` and no Accept at all.
    @Sendable func landing(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let parameters = try QueryParameters.parse(request)
        if try Format.negotiate(request, parameters: parameters, htmlAvailable: true) == .html {
            return try files.page("index.html")
        }
        _ = try FeatureQueryParser.uniqueValues(parameters, allowed: QueryParameters.itemParametersAndFormat.union(WebFiles.mapPageParameters))
        let base = baseURL(request)
        var w = JSONWriter()
        w.beginObject()
        w.key("title"); w.string("CivicMap — карта гражданских инициатив")
        w.key("description"); w.string("Non-profits (НКО), ТОС and internship sites of Russia's regions with their geodesic distance to the regional centre. OGC API – Features.")
        w.key("links"); w.beginArray()
        Responses.link(&w, href: "\(base)/?f=json", rel: "self", type: Responses.json, title: "This document")
        Responses.link(&w, href: "\(base)/api", rel: "service-desc", type: Responses.openAPI, title: "The API definition (OpenAPI 3.0)")
        Responses.link(&w, href: "\(base)/conformance", rel: "conformance", type: Responses.json, title: "Conformance classes")
        Responses.link(&w, href: "\(base)/collections", rel: "data", type: Responses.json, title: "Collections")
        w.endArray()
        w.endObject()
        return Responses.json(w)
    }

    @Sendable func conformance(_ request: Request, context: BasicRequestContext) async throws -> Response {
        try QueryParameters.requireOnlyFormat(request, ignoringItemParameters: true)
        var w = JSONWriter()
        w.beginObject()
        w.key("conformsTo"); w.strings(Self.conformance)
        w.endObject()
        return Responses.json(w)
    }

    @Sendable func api(_ request: Request, context: BasicRequestContext) async throws -> Response {
        try QueryParameters.requireOnlyFormat(request, ignoringItemParameters: true)
        let catalog = Catalog(kinds: try await source.kinds())
        let document = OpenAPIDocument.build(
            serverURL: baseURL(request), collectionIDs: catalog.collections.map(\.id),
            kinds: catalog.collections.compactMap { $0.kinds?.count == 1 ? $0.kinds![0].rawValue : nil },
            defaultLimit: configuration.defaultLimit, maximumLimit: configuration.maximumLimit)
        return Response(status: .ok, headers: [.contentType: Responses.openAPI], body: ResponseBody(byteBuffer: ByteBuffer(bytes: document)))
    }
}
