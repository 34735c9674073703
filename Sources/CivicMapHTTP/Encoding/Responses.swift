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

    /// self, next (while features remain), prev (after the first page), collection.
    static func pagingLinks(
        _ w: inout JSONWriter, url: String, parameters: [(name: String, value: String)], limit: Int, offset: Int,
        returned: Int, matched: Int, type: String = geoJSON
    ) {
        func href(offset: Int?) -> String {
            var pairs = parameters.filter { $0.name != "offset" && $0.name != "f" && $0.name != "limit" }
            pairs.append(("f", "json"))
            pairs.append(("limit", String(limit)))
            if let offset, offset > 0 { pairs.append(("offset", String(offset))) }
            return url + "?" + QueryParameters.encode(pairs)
        }
        w.key("links"); w.beginArray()
        link(&w, href: href(offset: offset), rel: "self", type: type, title: "This page")
        if returned > 0 && offset + returned < matched {
            link(&w, href: href(offset: offset + returned), rel: "next", type: type, title: "Next page")
        }
        if offset > 0 {
            // Past the end, the previous page is the last one that holds features.
            let page = max(limit, 1)
            let previous = offset < matched ? offset - limit : max(matched - 1, 0) / page * page
            link(&w, href: href(offset: max(0, previous)), rel: "prev", type: type, title: "Previous page")
        }
        if url.hasSuffix("/items") {
            link(&w, href: String(url.dropLast("/items".count)), rel: "collection", type: json, title: "The collection")
        }
        w.endArray()
    }

    /// One stored Feature with its `self` and `collection` links, and its entity tag.
    static func feature(_ bytes: [UInt8], base: String, collection: String, id: String, status: HTTPResponse.Status = .ok) -> Response {
        // Links go inside the Feature; drop its closing brace and append them.
        var body = bytes
        body.removeLast()
        var links = JSONWriter()
        links.beginArray()
        link(&links, href: "\(base)/collections/\(collection)/items/\(id)", rel: "self", type: geoJSON)
        link(&links, href: "\(base)/collections/\(collection)", rel: "collection", type: json)
        links.endArray()
        body += Array(",\"links\":".utf8) + links.bytes + [0x7D]
        return Response(status: status, headers: [.contentType: geoJSON, .eTag: EntityTag.of(bytes)], body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
    }

    /// A finished CSV file as a download.
    static func csv(_ bytes: [UInt8], dialect: CSVDialect, filename: String) -> Response {
        Response(
            status: .ok,
            headers: [.contentType: dialect.mediaType, .contentDisposition: "attachment; filename=\"\(filename).\(dialect.fileExtension)\""],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// Items streamed a chunk at a time (exports, CSV of matches): memory stays flat.
    static func stream<Encoder: ExportEncoder>(_ chunks: Chunks<Encoder.Item>, contentType: String, filename: String, encoder: Encoder) -> Response {
        let body = ResponseBody { writer in
            try await writer.write(ByteBuffer(bytes: encoder.head(count: chunks.count)))
            var first = true
            for try await chunk in chunks {
                try await writer.write(ByteBuffer(bytes: encoder.encode(chunk, first: first)))
                first = false
            }
            try await writer.write(ByteBuffer(bytes: encoder.tail()))
            try await writer.finish(nil)
        }
        return Response(
            status: .ok,
            headers: [.contentType: contentType, .contentDisposition: "attachment; filename=\"\(filename)\""],
            body: body)
    }

    /// RFC 3339 UTC time with seconds, for `timeStamp`.
    static func timeStamp(_ date: Date = Date()) -> String { TimeStamp.string(date) }
}

/// The base URL links are built from: the configured public URL, else the request's Host.
struct BaseURL {
    let publicURL: String?

    func callAsFunction(_ request: Request) -> String {
        if let publicURL { return publicURL }
        guard let host = request.head.authority, Self.isHost(host) else { return "http://localhost" }
        return "http://\(host)"
    }

    /// A name, IPv4 or bracketed IPv6 address with an optional port: anything else in `Host`
    /// (quotes, markup, a path) must not reach links, which a cache could keep for others.
    static func isHost(_ text: String) -> Bool {
        var host = Array(text.utf8)[...]
        func isDigit(_ b: UInt8) -> Bool { (0x30...0x39).contains(b) }
        if let colon = host.lastIndex(of: 0x3A), host.last != 0x5D, host.first != 0x5B || host[..<colon].last == 0x5D {
            let port = host[(colon + 1)...]
            guard (1...5).contains(port.count), port.allSatisfy(isDigit) else { return false }
            host = host[..<colon]
        }
        if host.first == 0x5B {  // [IPv6]
            return host.count > 2 && host.last == 0x5D && host.dropFirst().dropLast().allSatisfy { b in
                isDigit(b) || (0x61...0x66).contains(b | 0x20) || b == 0x3A || b == 0x2E
            }
        }
        return !host.isEmpty && host.count <= 253 && host.allSatisfy { b in
            isDigit(b) || (0x61...0x7A).contains(b | 0x20) || b == 0x2E || b == 0x2D
        }
    }
}
