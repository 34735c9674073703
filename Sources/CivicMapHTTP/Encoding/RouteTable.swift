import Hummingbird

/// The router as the controllers see it: it records which methods each path answers, so that
/// the others get 405 with `Allow` (RFC 9110 §15.5.6) rather than 404, which would tell a client
/// the resource does not exist. HEAD is answered wherever GET is (the router derives it).
final class RouteTable: RouterMethods {
    typealias Context = BasicRequestContext

    private let router: Router<Context>
    private var methods: [(path: RouterPath, methods: Set<HTTPRequest.Method>)] = []

    init(_ router: Router<Context>) { self.router = router }

    @discardableResult
    func on<Responder: HTTPResponder>(_ path: RouterPath, method: HTTPRequest.Method, responder: Responder) -> Self
    where Responder.Context == Context {
        router.on(path, method: method, responder: responder)
        if let index = methods.firstIndex(where: { $0.path.description == path.description }) {
            methods[index].methods.insert(method)
        } else {
            methods.append((path, [method]))
        }
        return self
    }

    @discardableResult
    func add(middleware: any MiddlewareProtocol<Request, Response, Context>) -> Self {
        router.add(middleware: middleware)
        return self
    }

    /// Adds the 405 answers; call once every controller has added its routes.
    func refuseOtherMethods() {
        let all: [HTTPRequest.Method] = [.get, .post, .put, .patch, .delete]
        for (path, served) in methods {
            let allowed = (served.contains(.get) ? [.get, .head] : []) + all.filter { $0 != .get && served.contains($0) }
            let allow = allowed.map(\.rawValue).joined(separator: ", ")
            for method in all where !served.contains(method) {
                router.on(path, method: method) { request, _ -> Response in
                    throw Problem(status: .methodNotAllowed, type: "method-not-allowed", title: "Method not allowed",
                                  detail: "\(request.method.rawValue) is not served here; use \(allow)", headers: [.allow: allow])
                }
            }
        }
    }
}
