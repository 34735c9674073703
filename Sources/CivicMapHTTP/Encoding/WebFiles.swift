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

    init(configuration: CivicMapConfiguration) {
        webDirectory = configuration.webDirectory
        leafletDirectory = configuration.leafletDirectory
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

    static let contentTypes = [
        "html": "text/html; charset=utf-8", "js": "text/javascript; charset=utf-8", "css": "text/css; charset=utf-8",
        "png": "image/png", "svg": "image/svg+xml", "json": "application/json", "ico": "image/x-icon",
        "webp": "image/webp", "jpg": "image/jpeg",
    ]

    /// A page of the app (`index.html`, `embed.html`) with the security policy.
    func page(_ name: String) throws -> Response {
        var response = try file(root: webDirectory, path: name)
        response.headers[.contentSecurityPolicy] = contentSecurityPolicy
        response.headers[.cacheControl] = "no-cache"
        return response
    }

    func file(root: String, path: String) throws -> Response {
        // Only plain relative names: no '..', no hidden files, no odd characters.
        let parts = path.split(separator: "/")
        guard !parts.isEmpty, parts.allSatisfy({ part in
            !part.hasPrefix(".") && part.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }
        }) else { throw CivicMapError.notFound("file '\(path)'") }
        let ext = String(parts.last!.split(separator: ".").last ?? "")
        guard let type = Self.contentTypes[ext], let data = FileManager.default.contents(atPath: "\(root)/\(path)") else {
            throw CivicMapError.notFound("file '\(path)'")
        }
        var headers: HTTPFields = [.contentType: type, .cacheControl: "public, max-age=300"]
        if ext == "html" { headers[.contentSecurityPolicy] = contentSecurityPolicy }
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }
}

/// Headers every response carries.
struct SecurityHeadersMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[.referrerPolicy] = "strict-origin-when-cross-origin"
        return response
    }
}

extension HTTPField.Name {
    static let referrerPolicy = Self("Referrer-Policy")!
}
