import CivicMapCore
import Foundation
import HTTPTypes
import Hummingbird

/// Files of the map page (web/) and of Debian's Leaflet packages, read from disk per request
/// (they are small, and operators may edit the page without a restart).
struct WebFiles {
    let webDirectory: String
    let leafletDirectory: String
    let contentSecurityPolicy: String
    /// The path of `--public-url` ("/civicmap" behind a proxy's sub-path; "" at the root).
    let basePath: String

    init(configuration: CivicMapConfiguration) {
        webDirectory = configuration.webDirectory
        leafletDirectory = configuration.leafletDirectory
        basePath = configuration.publicURL.flatMap { URL(string: $0)?.path }.map { String($0.reversed().drop { $0 == "/" }.reversed()) } ?? ""
        // No inline script or style anywhere; images from the basemap's origin; embedding by
        // the configured ancestors only (no X-Frame-Options, which cannot list origins).
        let tileOrigin = URL(string: configuration.tileURL.replacingOccurrences(of: "{", with: "").replacingOccurrences(of: "}", with: ""))
            .flatMap { url in url.scheme.map { "\($0)://\(url.host ?? "")" + (url.port.map { ":\($0)" } ?? "") } } ?? ""
        contentSecurityPolicy = [
            "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data: \(tileOrigin)",
            "connect-src 'self'", "object-src 'none'", "base-uri 'self'", "form-action 'self'",
            "frame-ancestors \(configuration.frameAncestors)",
        ].joined(separator: "; ")
    }

    /// What the map page reads from its URL (web/app.js): links to the map carry them, and a
    /// client that is not a browser asking for one gets the landing document, not a 400.
    static let mapPageParameters = [
        "lang", "kind", "region_iso", "categories", "q", "remote", "km", "min_distance_km", "near",
        "bbox", "lat", "lon", "z", "controls", "locked", "tile_timeout",
    ]

    static let contentTypes = [
        "html": "text/html; charset=utf-8", "js": "text/javascript; charset=utf-8", "css": "text/css; charset=utf-8",
        "png": "image/png", "svg": "image/svg+xml", "json": "application/json", "ico": "image/x-icon",
        "webp": "image/webp", "jpg": "image/jpeg",
    ]

    /// A page of the app (`index.html`, `embed.html`) with the security policy.
    /// Behind a sub-path its root-relative links and the app's requests go under it: the page
    /// names the base in a meta tag, which the scripts read (`CM.base`).
    func page(_ name: String) throws -> Response {
        var (type, data) = try contents(root: webDirectory, path: name)
        if !basePath.isEmpty {
            let base = basePath.replacingOccurrences(of: "\"", with: "%22")
            let html = String(decoding: data, as: UTF8.self)
                .replacingOccurrences(of: " href=\"/", with: " href=\"\(base)/").replacingOccurrences(of: " src=\"/", with: " src=\"\(base)/")
                .replacingOccurrences(of: "<meta charset=\"utf-8\">", with: "<meta charset=\"utf-8\">\n  <meta name=\"civicmap-base\" content=\"\(base)\">")
            data = Data(html.utf8)
        }
        let headers: HTTPFields = [.contentType: type, .cacheControl: "no-cache", .contentSecurityPolicy: contentSecurityPolicy]
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    func file(root: String, path: String) throws -> Response {
        let (type, data) = try contents(root: root, path: path)
        var headers: HTTPFields = [.contentType: type, .cacheControl: "public, max-age=300"]
        if type.hasPrefix("text/html") { headers[.contentSecurityPolicy] = contentSecurityPolicy }
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    private func contents(root: String, path: String) throws -> (type: String, data: Data) {
        // Only plain relative names: no '..', no hidden files, no odd characters.
        let parts = path.split(separator: "/")
        guard !parts.isEmpty, parts.allSatisfy({ part in
            !part.hasPrefix(".") && part.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }
        }) else { throw CivicMapError.notFound("file '\(path)'") }
        let ext = String(parts.last!.split(separator: ".").last ?? "")
        guard let type = Self.contentTypes[ext], let data = FileManager.default.contents(atPath: "\(root)/\(path)") else {
            throw CivicMapError.notFound("file '\(path)'")
        }
        return (type, data)
    }
}

/// Headers every response carries.
struct SecurityHeadersMiddleware<Context: RequestContext>: RouterMiddleware {
    static var negotiable: [String] { ["text/html", "application/json", "application/geo+json", "text/csv", "application/problem+json"] }

    /// Also on the answers no route gives (`UnreadableRequestHandler`).
    static func add(to headers: inout HTTPFields) {
        headers[.xContentTypeOptions] = "nosniff"
        headers[.referrerPolicy] = "strict-origin-when-cross-origin"
        // Everything here is public (CORS allows every origin): a site isolated with
        // `Cross-Origin-Embedder-Policy: require-corp` may still load embed.js and frame the widget.
        headers[.crossOriginResourcePolicy] = "cross-origin"
    }

    /// Hummingbird's CORSMiddleware names the exposed headers on preflights only, where browsers
    /// ignore them: a page that keeps an ETag to send `If-None-Match`, or saves an export under
    /// its own name, needs them on the answer itself. (Here, not in a middleware of their own:
    /// with a layer more, one feature was served at 10,600–12,800 req/s, here at 13,100–15,100;
    /// wrk, three alternating 6-second runs.)
    static var exposedHeaders: [String] { ["ETag", "Content-Disposition"] }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        Self.add(to: &response.headers)
        if request.method != .options, request.headers.contains(.origin) {
            response.headers[.accessControlExposeHeaders] = Self.exposedHeaders.joined(separator: ", ")
        }
        // `/`, reports, matching and programmes answer HTML, JSON or CSV by `Accept`: a cache
        // in front must not hand a browser's page to an API client. Scripts, styles, images
        // and tiles are one representation each.
        // A 304 names what its 200 varies by (RFC 9110 §15.4.5); only negotiated pages answer one.
        if response.status == .notModified || response.headers[.contentType].map({ type in Self.negotiable.contains(where: type.hasPrefix) }) == true {
            response.headers[.vary] = "Accept"
        }
        return response
    }
}

extension HTTPField.Name {
    static let referrerPolicy = Self("Referrer-Policy")!
}
