import CivicMapCore
import Hummingbird

/// `/health` (liveness and a database read) and `/metrics` (Prometheus): what operators and
/// their monitoring read.
struct OperationsController {
    let source: any FeatureSource
    let metrics: RequestMetrics

    func addRoutes(to router: RouteTable) {
        router.get("/health", use: health)
        router.get("/metrics", use: exposition)
    }

    @Sendable func health(_ request: Request, context: BasicRequestContext) async throws -> Response {
        try QueryParameters.requireOnlyFormat(request)
        do {
            try await source.checkHealth()
        } catch {
            context.logger.error("health check failed", metadata: ["error": "\(error)"])
            throw Problem(status: .serviceUnavailable, type: "unhealthy", title: "Service unhealthy", detail: "the database does not answer")
        }
        var w = JSONWriter()
        w.beginObject()
        w.key("status"); w.string("ok")
        w.key("database"); w.string("ok")
        w.endObject()
        return Responses.json(w)
    }

    @Sendable func exposition(_ request: Request, context: BasicRequestContext) async throws -> Response {
        _ = try FeatureQueryParser.uniqueValues(try QueryParameters.parse(request), allowed: [])
        return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                        body: ResponseBody(byteBuffer: ByteBuffer(string: metrics.text())))
    }
}
