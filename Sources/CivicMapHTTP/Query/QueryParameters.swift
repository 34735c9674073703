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
    /// The OGC API's documents (landing page, conformance, OpenAPI, collections, queryables)
    /// also take the items' parameters, and ignore them: GDAL sends the parameters of an
    /// `OAPIF:` URL (`…/collections/ngo?min_distance_km=50`) with every request it makes.
    static func requireOnlyFormat(_ request: Request, ignoringItemParameters: Bool = false) throws {
        let parameters = try parse(request)
        _ = try FeatureQueryParser.uniqueValues(parameters, allowed: ignoringItemParameters ? itemParametersAndFormat : ["f"])
        _ = try Format.negotiate(request, parameters: parameters)
    }

    static let itemParametersAndFormat = Set(FeatureQueryParser.filterParameters + FeatureQueryParser.standardParameters + ["f"])

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

    /// `csvElsewhere`: where CSV of this resource is, for the error when it is asked for here.
    static func negotiate(
        _ request: Request, parameters: [(name: String, value: String)], htmlAvailable: Bool = false, csvAvailable: Bool = false,
        csvElsewhere: String? = nil
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
                guard csvAvailable else {
                    throw .invalidParameter(name: "f", reason: "\(f) is not available here; use \(offered.joined(separator: " or "))" + (csvElsewhere.map { "; CSV: \($0)" } ?? ""))
                }
                return .csv
            default: throw .invalidParameter(name: "f", reason: "unknown format '\(f)'; use \(offered.joined(separator: " or "))")
            }
        }
        let formats: [Format] = [.json] + (htmlAvailable ? [.html] : []) + (csvAvailable ? [.csv] : [])
        return preferred(accept: request.headers[.accept] ?? "", offered: formats)
    }

    /// RFC 9110 §12.5.1: each format takes the quality of the most specific media range that
    /// matches it; the highest quality wins, then the more specific match, then the range named
    /// first (browsers list text/html first), then the order offered. JSON when nothing matches
    /// or everything is refused: API clients that send odd headers still get an answer.
    static func preferred(accept: String, offered: [Format]) -> Format {
        let ranges = MediaRange.parse(accept)
        var best: (format: Format, rank: (Double, Int, Int))?
        for format in offered {
            guard let match = ranges.filter({ $0.matches(format) }).max(by: { $0.specificity < $1.specificity }), match.quality > 0 else { continue }
            let rank = (match.quality, match.specificity, -match.position)
            if best.map({ rank > $0.rank }) ?? true { best = (format, rank) }
        }
        return best?.format ?? .json
    }

    /// One element of an Accept header: `type/subtype;q=0.8`.
    struct MediaRange {
        var type: String
        var subtype: String
        var quality: Double
        var position: Int

        static func parse(_ header: String) -> [MediaRange] {
            header.split(separator: ",").enumerated().compactMap { position, element in
                let parts = element.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
                let name = parts.first?.split(separator: "/", omittingEmptySubsequences: false) ?? []
                guard name.count == 2, !name[0].isEmpty, !name[1].isEmpty else { return nil }
                let q = parts.dropFirst().first { $0.hasPrefix("q=") }.flatMap { Double($0.dropFirst(2)) } ?? 1
                return MediaRange(type: String(name[0]), subtype: String(name[1]), quality: min(1, max(0, q)), position: position)
            }
        }

        /// 2 for type/subtype, 1 for type/*, 0 for */*.
        var specificity: Int { type == "*" ? 0 : subtype == "*" ? 1 : 2 }

        func matches(_ format: Format) -> Bool {
            let (wantedType, isWanted): (String, (String) -> Bool) = switch format {
            // application/json, application/geo+json and the other JSON types this server writes.
            case .json: ("application", { $0 == "json" || $0.hasSuffix("+json") })
            case .html: ("text", { $0 == "html" })
            case .csv: ("text", { $0 == "csv" })
            }
            return type == "*" || (type == wantedType && (subtype == "*" || isWanted(subtype)))
        }
    }
}
