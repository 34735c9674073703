import HTTPTypes
import Hummingbird
import NIOCore
import NIOHTTP1
import NIOHTTPTypes

/// NIO's HTTP/1 parser refuses a request it cannot read before any route or middleware sees
/// it, and Hummingbird then answers an empty 400. The usual cause is a URL with raw Cyrillic
/// (curl and scripts send it unencoded; browsers encode it), so this answers with a problem
/// that says how to send it. Sits after the HTTP/1 codec, where the parser's error passes first.
final class UnreadableRequestHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let metrics: RequestMetrics
    init(metrics: RequestMetrics) { self.metrics = metrics }

    /// Requests read whose responses have not ended: a pipelining client gets those first.
    private var unanswered = 0
    /// A request's head is read and its end is not: the parser failed inside its body, which
    /// its route may be reading, so the error goes on to Hummingbird as before.
    private var readingBody = false
    /// The parser has failed: nothing more is read, and the decoder's later complaints about
    /// bytes it will not parse are not passed on (they would make Hummingbird drop the
    /// connection before the answers still owed are out).
    private var refused = false
    /// The answer to an unreadable request that waits for the responses before it.
    private var deferred: Problem?

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head: unanswered += 1; readingBody = true
        case .end: readingBody = false
        case .body: break
        }
        context.fireChannelRead(data)
    }

    func read(context: ChannelHandlerContext) {
        if !refused { context.read() }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        context.write(data, promise: promise)
        guard case .end = unwrapOutboundIn(data) else { return }
        unanswered -= 1
        if unanswered == 0, let problem = deferred {
            deferred = nil
            answer(problem, context: context)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if refused { return }
        guard let parserError = error as? HTTPParserError, !readingBody else {
            context.fireErrorCaught(error)
            return
        }
        refused = true
        if unanswered == 0 { answer(Self.problem(parserError), context: context) } else { deferred = Self.problem(parserError) }
    }

    private func answer(_ problem: Problem, context: ChannelHandlerContext) {
        metrics.refused(status: Int(problem.status.code))
        var fields = problem.headerFields
        let body = problem.body(instance: nil)
        fields[.contentLength] = String(body.count)
        fields[.connection] = "close"
        SecurityHeadersMiddleware<BasicRequestContext>.add(to: &fields)
        context.write(wrapOutboundOut(.head(HTTPResponse(status: problem.status, headerFields: fields))), promise: nil)
        context.write(wrapOutboundOut(.body(ByteBuffer(bytes: body))), promise: nil)
        // The connection cannot be read further: closed once the answer is out.
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in loopBound.value.close(promise: nil) }
    }

    static func problem(_ error: HTTPParserError) -> Problem {
        switch error {
        case .headerOverflow:
            Problem(status: .init(code: 431, reasonPhrase: "Request Header Fields Too Large"), type: "unreadable-request",
                    title: "Unreadable request", detail: "the request's headers are too large")
        case .invalidCharactersUsed, .invalidURL, .invalidPath, .invalidQueryString:
            Problem(status: .badRequest, type: "unreadable-request", title: "Unreadable request", detail:
                "the request target must be ASCII: percent-encode other characters (RFC 3986), as browsers do; "
                    + "q=Пермь is sent as q=%D0%9F%D0%B5%D1%80%D0%BC%D1%8C (with curl: -G --data-urlencode 'q=Пермь')")
        default:
            Problem(status: .badRequest, type: "unreadable-request", title: "Unreadable request",
                    detail: "the request is not valid HTTP/1.1 (\(error))")
        }
    }
}
