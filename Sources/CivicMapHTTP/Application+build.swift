import CivicMapCore
import Hummingbird
import Logging

/// The composition root: the only place routes, middleware and dependencies are wired.
public func buildApplication(
    configuration: CivicMapConfiguration, source: any FeatureSource, logger: Logger
) -> some ApplicationProtocol {
    Application(
        router: buildRouter(configuration: configuration, source: source),
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "CivicMap"),
        logger: logger)
}

/// Middleware outside-in: problem mapping → request log → CORS; then the controllers.
public func buildRouter(configuration: CivicMapConfiguration, source: any FeatureSource) -> Router<BasicRequestContext> {
    let router = Router(context: BasicRequestContext.self)
    router.middlewares.add(ProblemMiddleware())
    router.middlewares.add(LogRequestsMiddleware(.info))
    // Reads are public: any site may fetch features (maps, dashboards, notebooks).
    router.middlewares.add(CORSMiddleware(allowOrigin: .all, allowHeaders: [.accept, .contentType], allowMethods: [.get, .head, .options]))
    let baseURL = BaseURL(publicURL: configuration.publicURL)
    LandingController(source: source, baseURL: baseURL, configuration: configuration).addRoutes(to: router)
    CollectionsController(source: source, baseURL: baseURL, configuration: configuration).addRoutes(to: router)
    ExportController(source: source, configuration: configuration).addRoutes(to: router)
    return router
}
