import CivicMapCore
import Hummingbird
import Logging
import NIOCore

/// RFC 9457 problem details. Every error the service answers with goes through here.
struct Problem: Error {
    var status: HTTPResponse.Status
    var type: String
    var title: String
    var detail: String
    /// Extension members: the parameter at fault, record errors.
    var extensions: @Sendable (inout JSONWriter) -> Void = { _ in }
    /// Headers the status calls for (`WWW-Authenticate` with a 401).
    var headers: HTTPFields = [:]

    static let mediaType = "application/problem+json"

    init(status: HTTPResponse.Status, type: String, title: String, detail: String, headers: HTTPFields = [:],
         extensions: @escaping @Sendable (inout JSONWriter) -> Void = { _ in }) {
        self.headers = headers
        self.status = status
        self.type = type
        self.title = title
        self.detail = detail
        self.extensions = extensions
    }

    /// The one mapping from domain errors to HTTP.
    init(_ error: CivicMapError) {
        switch error {
        case .invalidParameter(let name, let reason):
            self.init(status: .badRequest, type: "invalid-parameter", title: "Invalid parameter", detail: "\(name): \(reason)") { w in
                w.key("parameter"); w.string(name)
                w.key("reason"); w.string(reason)
                w.key("invalid-params"); w.beginArray(); w.beginObject()
                w.key("name"); w.string(name); w.key("reason"); w.string(reason)
                w.endObject(); w.endArray()
            }
        case .notFound(let what):
            self.init(status: .notFound, type: "not-found", title: "Not found", detail: "\(what) does not exist")
        case .invalidRecords(let problems):
            self.init(status: .unprocessableContent, type: "invalid-records", title: "Invalid records", detail: "\(problems.count) problem(s) in \(Set(problems.map { "\($0.file ?? "") \($0.line)" }).count) record(s)") { w in
                w.key("errors"); Self.write(problems.prefix(1000), to: &w)
            }
        case .conflict(let what):
            self.init(status: .conflict, type: "conflict", title: "Conflict", detail: what)
        case .notReady(let what):
            self.init(status: .serviceUnavailable, type: "not-ready", title: "Service not ready", detail: what)
        case .unauthenticated(let why):
            self.init(status: .unauthorized, type: "unauthenticated", title: "Authentication required", detail: why)
            headers[.wwwAuthenticate] = "Bearer realm=\"CivicMap\""
        case .forbidden(let why):
            self.init(status: .forbidden, type: "forbidden", title: "Forbidden", detail: why)
        case .preconditionFailed(let why):
            self.init(status: .preconditionFailed, type: "precondition-failed", title: "Changed since read", detail: why)
        case .preconditionRequired(let why):
            self.init(status: .init(code: 428, reasonPhrase: "Precondition Required"), type: "precondition-required", title: "Precondition required", detail: why)
        }
    }

    /// 413: a body past a limit, `detail` saying which.
    static func tooLarge(_ detail: String) -> Problem {
        Problem(status: .contentTooLarge, type: "too-large", title: "Request body too large", detail: detail)
    }

    /// Field problems as problem members list them: line, field and reason each.
    static func write(_ problems: some Sequence<FieldProblem>, to w: inout JSONWriter) {
        w.beginArray()
        for p in problems {
            w.beginObject()
            w.key("line"); w.int(p.line); w.key("field"); w.string(p.field); w.key("reason"); w.string(p.reason)
            w.endObject()
        }
        w.endArray()
    }

    func response(instance: String) -> Response {
        Response(status: status, headers: headerFields, body: ResponseBody(byteBuffer: ByteBuffer(bytes: body(instance: instance))))
    }

    var headerFields: HTTPFields {
        var fields = headers
        fields[.contentType] = Self.mediaType
        return fields
    }

    /// The JSON document; `instance` is the request's path, nil when it could not be read.
    func body(instance: String?) -> [UInt8] {
        var w = JSONWriter(capacity: 512)
        w.beginObject()
        w.key("type"); w.string("tag:civicmap,2026:problem:" + type)
        w.key("title"); w.string(title)
        w.key("status"); w.int(Int(status.code))
        w.key("detail"); w.string(detail)
        if let instance { w.key("instance"); w.string(instance) }
        extensions(&w)
        w.endObject()
        return w.bytes
    }
}

/// Outermost middleware: turns every thrown error into a problem+json response. Errors it does
/// not know become an opaque 500, logged with the request id, with no internals in the body.
struct ProblemMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let instance = request.uri.path
        do {
            return try await next(request, context)
        } catch let error as CivicMapError {
            return Problem(error).response(instance: instance)
        } catch let problem as Problem {
            return problem.response(instance: instance)
        } catch is NIOTooManyBytesError {
            // NIO's maxBytes is its buffer's size, not the limit: handlers that know it say it (`tooLarge`).
            return Problem.tooLarge("the body exceeds this endpoint's limit").response(instance: instance)
        } catch let error as HTTPError {
            let detail = error.body ?? (error.status == .notFound ? "no resource at \(instance)" : error.status.reasonPhrase)
            return Problem(status: error.status, type: "http-\(error.status.code)", title: error.status.reasonPhrase, detail: detail)
                .response(instance: instance)
        } catch {
            context.logger.error("unhandled error", metadata: ["error": "\(String(reflecting: error))"])
            return Problem(status: .internalServerError, type: "internal", title: "Internal server error",
                           detail: "the server could not answer; the error is logged").response(instance: instance)
        }
    }
}
