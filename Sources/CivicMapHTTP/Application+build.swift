import CivicMapCore
import Hummingbird
import Logging

/// The composition root: the only place routes, middleware and dependencies are wired.
public func buildApplication(
    configuration: CivicMapConfiguration, source: any FeatureSource, tiles: any TileSource = NoTiles(), logger: Logger
) -> some ApplicationProtocol {
    Application(
        router: buildRouter(configuration: configuration, source: source, tiles: tiles),
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "CivicMap"),
        logger: logger)
}

/// Middleware outside-in: security headers → CORS → problem mapping → request log; then the
/// controllers. CORS stays outside the problem mapping so it sees finished responses (errors
/// included) rather than thrown errors, which it would wrap in a type nothing here knows.
public func buildRouter(
    configuration: CivicMapConfiguration, source: any FeatureSource, tiles: any TileSource = NoTiles()
) -> Router<BasicRequestContext> {
    let router = Router(context: BasicRequestContext.self)
    router.middlewares.add(SecurityHeadersMiddleware())
    // Reads are public: any site may fetch features (maps, dashboards, notebooks).
    router.middlewares.add(CORSMiddleware(allowOrigin: .all, allowHeaders: [.accept, .contentType], allowMethods: [.get, .head, .options]))
    router.middlewares.add(ProblemMiddleware())
    router.middlewares.add(LogRequestsMiddleware(.info))
    let baseURL = BaseURL(publicURL: configuration.publicURL)
    let files = WebFiles(configuration: configuration)
    LandingController(source: source, baseURL: baseURL, configuration: configuration, files: files).addRoutes(to: router)
    CollectionsController(source: source, baseURL: baseURL, configuration: configuration).addRoutes(to: router)
    ExportController(source: source, configuration: configuration).addRoutes(to: router)
    MapController(source: source, tiles: tiles, configuration: configuration).addRoutes(to: router)
    MatchingController(source: source, baseURL: baseURL, configuration: configuration).addRoutes(to: router)
    ProgrammesController(source: source, baseURL: baseURL, configuration: configuration).addRoutes(to: router)
    ReportsController(source: source, baseURL: baseURL, configuration: configuration, files: files).addRoutes(to: router)
    WebController(files: files, tiles: tiles).addRoutes(to: router)
    return router
}

/// No basemap files: what tests and deployments without MBTiles use.
public struct NoTiles: TileSource {
    public init() {}
    public func tilesets() -> [Tileset] { [] }
    public func tile(tileset: String, z: Int, x: Int, y: Int) async throws -> [UInt8]? { nil }
}
