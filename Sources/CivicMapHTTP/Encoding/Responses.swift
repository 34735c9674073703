import CivicMapCore
import Foundation
import Hummingbird

/// Building responses and links.
enum Responses {
    static let json = "application/json"
    static let geoJSON = "application/geo+json"
    static let openAPI = "application/vnd.oai.openapi+json;version=3.0"

    static func json(_ writer: JSONWriter, contentType: String = json, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: contentType], body: ResponseBody(byteBuffer: ByteBuffer(bytes: writer.bytes)))
    }

    /// Writes a `{"href","rel","type","title"}` link object.
    static func link(_ w: inout JSONWriter, href: String, rel: String, type: String, title: String? = nil) {
        w.beginObject()
        w.key("href"); w.string(href)
        w.key("rel"); w.string(rel)
        w.key("type"); w.string(type)
        if let title { w.key("title"); w.string(title) }
        w.endObject()
    }

    /// RFC 3339 UTC time with seconds, for `timeStamp`.
    static func timeStamp(_ date: Date = Date()) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }
}

/// The base URL links are built from: the configured public URL, else the request's Host.
struct BaseURL {
    let publicURL: String?

    func callAsFunction(_ request: Request) -> String {
        if let publicURL { return publicURL }
        let host = request.head.authority ?? "localhost"
        return "http://\(host)"
    }
}
