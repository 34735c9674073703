import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Synchronization

/// Requests, latencies and errors per route, kept in memory and written in Prometheus' text
/// format at `/metrics`. Routes are the router's patterns, so the label set stays small.
final class RequestMetrics: Sendable {
    /// Seconds; the same bounds Prometheus' client libraries use by default.
    static let buckets: [Double] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

    private struct Series: Hashable {
        var method: String
        var route: String
        var status: Int
    }

    private struct Histogram {
        var counts = [Int](repeating: 0, count: RequestMetrics.buckets.count)
        var sum = 0.0
        var count = 0
    }

    private struct State {
        var requests: [Series: Int] = [:]
        var durations: [[String]: Histogram] = [:]
        var inFlight = 0
    }

    private let state = Mutex(State())

    func started() { state.withLock { $0.inFlight += 1 } }

    func finished(method: String, route: String, status: Int, seconds: Double) {
        state.withLock { s in
            s.inFlight -= 1
            s.requests[Series(method: method, route: route, status: status), default: 0] += 1
            var h = s.durations[[method, route]] ?? Histogram()
            for (i, bound) in Self.buckets.enumerated() where seconds <= bound { h.counts[i] += 1 }
            h.sum += seconds
            h.count += 1
            s.durations[[method, route]] = h
        }
    }

    /// A request refused before any route (`UnreadableRequestHandler`): counted under the route
    /// `(unreadable)`, with no duration.
    func refused(status: Int) {
        state.withLock { $0.requests[Series(method: "", route: "(unreadable)", status: status), default: 0] += 1 }
    }

    /// The exposition text (version 0.0.4).
    func text() -> String {
        let s = state.withLock { $0 }
        var out = """
            # HELP civicmap_http_requests_total HTTP requests answered, by method, route and status.
            # TYPE civicmap_http_requests_total counter

            """
        for (k, n) in s.requests.sorted(by: { ($0.key.route, $0.key.method, $0.key.status) < ($1.key.route, $1.key.method, $1.key.status) }) {
            out += "civicmap_http_requests_total{method=\"\(k.method)\",route=\"\(Self.escape(k.route))\",status=\"\(k.status)\"} \(n)\n"
        }
        out += """
            # HELP civicmap_http_errors_total HTTP requests answered with a 4xx or 5xx status, by class.
            # TYPE civicmap_http_errors_total counter

            """
        for errorClass in [4, 5] {
            let n = s.requests.filter { $0.key.status / 100 == errorClass }.values.reduce(0, +)
            out += "civicmap_http_errors_total{class=\"\(errorClass)xx\"} \(n)\n"
        }
        out += """
            # HELP civicmap_http_request_duration_seconds Time to the response head, by method and route.
            # TYPE civicmap_http_request_duration_seconds histogram

            """
        for (key, h) in s.durations.sorted(by: { $0.key.lexicographicallyPrecedes($1.key) }) {
            let labels = "method=\"\(key[0])\",route=\"\(Self.escape(key[1]))\""
            for (i, bound) in Self.buckets.enumerated() {
                out += "civicmap_http_request_duration_seconds_bucket{\(labels),le=\"\(bound)\"} \(h.counts[i])\n"
            }
            out += "civicmap_http_request_duration_seconds_bucket{\(labels),le=\"+Inf\"} \(h.count)\n"
            out += "civicmap_http_request_duration_seconds_sum{\(labels)} \(h.sum)\n"
            out += "civicmap_http_request_duration_seconds_count{\(labels)} \(h.count)\n"
        }
        out += """
            # HELP civicmap_http_requests_in_flight Requests being answered now.
            # TYPE civicmap_http_requests_in_flight gauge
            civicmap_http_requests_in_flight \(s.inFlight)

            """
        if let rss = Self.residentBytes() {
            out += """
                # HELP process_resident_memory_bytes Resident memory of the server process.
                # TYPE process_resident_memory_bytes gauge
                process_resident_memory_bytes \(rss)

                """
        }
        return out
    }

    private static func escape(_ label: String) -> String {
        label.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
    }

    /// From /proc (Linux); nil elsewhere.
    static func residentBytes() -> Int? {
        guard let statm = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return nil }
        let fields = statm.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return nil }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }
}

/// Gives each request an id (answered as `X-Request-Id`, and in every log line of the request),
/// logs one structured line per request, and counts it in the metrics.
struct ObservabilityMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: RequestMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        metrics.started()
        var status = 500
        defer {
            let d = (ContinuousClock.now - start).components
            let seconds = Double(d.seconds) + Double(d.attoseconds) * 1e-18
            let route = context.endpointPath ?? "unmatched"
            metrics.finished(method: request.method.rawValue, route: route, status: status, seconds: seconds)
            context.logger.log(level: status >= 500 ? .error : .info, "request", metadata: [
                "method": .string(request.method.rawValue), "path": .string(request.uri.path), "route": .string(route),
                "status": .stringConvertible(status), "duration_ms": .string(String(format: "%.1f", seconds * 1000)),
            ])
        }
        var response = try await next(request, context)
        status = Int(response.status.code)
        response.headers[.xRequestID] = context.id
        return response
    }
}

extension HTTPField.Name {
    static let xRequestID = Self("X-Request-Id")!
}
