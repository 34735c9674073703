import CivicMapCore
import Foundation
import Hummingbird

/// The query string as ordered (name, value) pairs. Decodes `%XX` and `+` (forms send spaces
/// as `+`); a malformed escape is a 400, not a silently mangled value.
enum QueryParameters {
    static func parse(_ request: Request) throws(CivicMapError) -> [(name: String, value: String)] {
        guard let query = request.uri.query, !query.isEmpty else { return [] }
        var pairs: [(name: String, value: String)] = []
        for part in query.split(separator: "&") where !part.isEmpty {
            let pieces = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = try decode(pieces[0], name: String(pieces[0]))
            let value = pieces.count > 1 ? try decode(pieces[1], name: name) : ""
            pairs.append((name, value))
        }
        return pairs
    }

    private static func decode(_ raw: Substring, name: String) throws(CivicMapError) -> String {
        let spaced = raw.replacingOccurrences(of: "+", with: " ")
        guard let decoded = spaced.removingPercentEncoding else {
            throw .invalidParameter(name: name, reason: "malformed percent-encoding")
        }
        return decoded
    }

    /// For documents that take no parameter but `f`: anything else is a 400, as everywhere.
    static func requireOnlyFormat(_ request: Request) throws {
        let parameters = try parse(request)
        _ = try FeatureQueryParser.uniqueValues(parameters, allowed: ["f"])
        _ = try Format.negotiate(request, parameters: parameters)
    }

    /// Rebuilds a query string with some parameters replaced (for next/prev links).
    static func encode(_ pairs: [(name: String, value: String)]) -> String {
        var allowed = CharacterSet.urlQueryAllowed
        allowed.remove(charactersIn: "&=+;")
        return pairs.map { ($0.name.addingPercentEncoding(withAllowedCharacters: allowed) ?? $0.name) + "=" + ($0.value.addingPercentEncoding(withAllowedCharacters: allowed) ?? $0.value) }
            .joined(separator: "&")
    }
}

/// The representation a client asked for: `?f=` first, then the Accept header.
enum Format: String {
    case json
    case html
    case csv

    static func negotiate(
        _ request: Request, parameters: [(name: String, value: String)], htmlAvailable: Bool = false, csvAvailable: Bool = false
    ) throws(CivicMapError) -> Format {
        var offered = ["json"]
        if htmlAvailable { offered.append("html") }
        if csvAvailable { offered.append("csv") }
        if let f = parameters.first(where: { $0.name == "f" })?.value {
            switch f.lowercased() {
            case "json", "geojson", "application/json", "application/geo+json": return .json
            // (A `where` clause would guard only the last pattern of a case, so: guards.)
            case "html", "text/html":
                guard htmlAvailable else { throw .invalidParameter(name: "f", reason: "\(f) is not available here; use \(offered.joined(separator: " or "))") }
                return .html
            case "csv", "text/csv":
                guard csvAvailable else { throw .invalidParameter(name: "f", reason: "\(f) is not available here; use \(offered.joined(separator: " or "))") }
                return .csv
            default: throw .invalidParameter(name: "f", reason: "unknown format '\(f)'; use \(offered.joined(separator: " or "))")
            }
        }
        // Browsers send text/html first; API clients send JSON types or */* (or nothing).
        let accept = request.headers[.accept] ?? ""
        if htmlAvailable, let html = accept.range(of: "text/html"),
            accept.range(of: "json").map({ html.lowerBound < $0.lowerBound }) ?? true
        {
            return .html
        }
        if csvAvailable, accept.hasPrefix("text/csv") { return .csv }
        return .json
    }
}
