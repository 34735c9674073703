import CivicMapCore
import Hummingbird
import Logging

/// The composition root: the only place routes, middleware and dependencies are wired.
/// `editor` is the write side of the store; without it the write API is absent (read-only).
public func buildApplication(
    configuration: CivicMapConfiguration, source: any FeatureSource, editor: (any FeatureEditor)? = nil,
    tiles: any TileSource = NoTiles(), logger: Logger
) -> some ApplicationProtocol {
    let metrics = RequestMetrics()
    return Application(
        router: buildRouter(configuration: configuration, source: source, editor: editor, tiles: tiles, metrics: metrics),
        // A client that sends nothing for this long loses its connection (slow-header attacks).
        server: .http1(configuration: .init(
            additionalChannelHandlers: [UnreadableRequestHandler(metrics: metrics)], idleTimeout: .seconds(Int64(configuration.idleTimeoutSeconds)))),
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "CivicMap"),
        logger: logger)
}

/// Middleware outside-in: gzip → security headers (and the headers CORS exposes) → request id, log
/// and metrics → CORS → problem
/// mapping → time limit; then the controllers. CORS stays outside the problem mapping so it sees finished
/// responses (errors included) rather than thrown errors, which it would wrap in a type nothing
/// here knows.
func buildRouter(
    configuration: CivicMapConfiguration, source: any FeatureSource, editor: (any FeatureEditor)?, tiles: any TileSource,
    metrics: RequestMetrics
) -> Router<BasicRequestContext> {
    // HEAD is answered wherever GET is: monitors, link checkers and caches send it.
    let router = Router(context: BasicRequestContext.self, options: .autoGenerateHeadEndpoints)
    router.middlewares.add(CompressionMiddleware())
    router.middlewares.add(SecurityHeadersMiddleware())
    router.middlewares.add(ObservabilityMiddleware(metrics: metrics))
    // Reads are public: any site may fetch features (maps, dashboards, notebooks). Writes are
    // for tools holding a token, not for other sites' pages, so preflights do not offer them.
    router.middlewares.add(CORSMiddleware(
        allowOrigin: .all, allowHeaders: [.accept, .contentType, .ifNoneMatch], allowMethods: [.get, .head, .options],
        exposedHeaders: SecurityHeadersMiddleware<BasicRequestContext>.exposedHeaders))
    router.middlewares.add(ProblemMiddleware())
    router.middlewares.add(DeadlineMiddleware(limit: .seconds(configuration.requestTimeoutSeconds),
                                              unlimitedPost: EditingController.cannotStopHalfway))
    let baseURL = BaseURL(publicURL: configuration.publicURL)
    let routes = RouteTable(router)
    OperationsController(source: source, metrics: metrics).addRoutes(to: routes)
    if let editor { EditingController(source: source, editor: editor, baseURL: baseURL).addRoutes(to: routes) }
    let files = WebFiles(configuration: configuration)
    LandingController(source: source, baseURL: baseURL, configuration: configuration, files: files).addRoutes(to: routes)
    CollectionsController(source: source, baseURL: baseURL, configuration: configuration).addRoutes(to: routes)
    ExportController(source: source, configuration: configuration).addRoutes(to: routes)
    MapController(source: source, tiles: tiles, configuration: configuration).addRoutes(to: routes)
    MatchingController(source: source, baseURL: baseURL, configuration: configuration).addRoutes(to: routes)
    ProgrammesController(source: source, baseURL: baseURL, configuration: configuration).addRoutes(to: routes)
    ReportsController(source: source, baseURL: baseURL, configuration: configuration, files: files).addRoutes(to: routes)
    WebController(files: files, tiles: tiles).addRoutes(to: routes)
    routes.refuseOtherMethods()
    return router
}

/// No basemap files: what tests and deployments without MBTiles use.
public struct NoTiles: TileSource {
    public init() {}
    public func tilesets() -> [Tileset] { [] }
    public func tile(tileset: String, z: Int, x: Int, y: Int) async throws -> [UInt8]? { nil }
}
